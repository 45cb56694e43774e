"""Each application's campaigns, compiled once per change (as event segments are).

Evaluating a session checks one number — the application's promotions
version, read in the caller's transaction — and recompiles the campaigns'
rulesets only when it moved. So every evaluation runs with exactly the
campaigns committed at that moment, and 100 campaigns cost a version read,
not 100 parses.

The campaigns as the API shows them (``triggeredCampaigns`` of an answer)
are kept beside, from the same read.

A stored ruleset that no longer compiles (rulesets are checked when saved,
so only a change of Patron's function table could do this) takes its
campaign out of evaluation instead of failing every session; it is listed
in :attr:`CompiledCampaigns.broken`.

Entries are replaced whole, never mutated, so concurrent readers see an old
or a new set, never a mix; two threads missing at once compile twice, no
more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.ports import CampaignDefinition, CampaignReader
from patron.domain.promotions.talang import RulesetInvalid, compile_ruleset


@dataclass(frozen=True, slots=True)
class CompiledCampaigns:
    version: int
    campaigns: tuple[Campaign, ...]
    broken: Mapping[int, RulesetInvalid] = field(default_factory=dict)  # by campaign id
    records: Mapping[int, CampaignRecord] = field(default_factory=dict)  # by campaign id
    # The campaigns by id, built once here rather than on every evaluation that commits.
    by_id: Mapping[int, Campaign] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {c.id: c for c in self.campaigns})


def compile_campaigns(version: int, definitions: list[CampaignDefinition]) -> CompiledCampaigns:
    campaigns: list[Campaign] = []
    broken: dict[int, RulesetInvalid] = {}
    records: dict[int, CampaignRecord] = {}
    for definition in definitions:
        if definition.record is not None:
            records[definition.campaign.id] = definition.record
        campaign = replace(definition.campaign, ruleset=None)
        if definition.ruleset is not None:
            try:
                ruleset = compile_ruleset(definition.ruleset, definition.ruleset_id or 0)
            except RulesetInvalid as invalid:
                broken[campaign.id] = invalid
            else:
                campaign = replace(campaign, ruleset=ruleset)
        campaigns.append(campaign)
    return CompiledCampaigns(version, tuple(campaigns), broken, records)


class CampaignCache:
    """Compiled campaigns by application, recompiled when the application's version moves."""

    def __init__(self) -> None:
        self._compiled: dict[int, CompiledCampaigns] = {}
        self.compilations = 0  # how many times a set was compiled (for tests and metrics)

    def current(self, unit: CampaignReader, application_id: int) -> CompiledCampaigns:
        version = unit.promotions_version(application_id)
        cached = self._compiled.get(application_id)
        if cached is None or cached.version != version:
            # Definitions are read after the version: they are at least that
            # new, so a change racing this read costs one more compilation.
            cached = compile_campaigns(version, unit.campaign_definitions(application_id))
            self._compiled[application_id] = cached
            self.compilations += 1
        return cached

    def forget(self, application_id: int) -> None:
        self._compiled.pop(application_id, None)
