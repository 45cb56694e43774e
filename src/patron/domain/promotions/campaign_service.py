"""Setting campaigns up: create, update, read and delete campaigns; save and activate rulesets.

Every change to an application's campaigns or rulesets moves its promotions
version in the same transaction, so every process's ``CampaignCache``
recompiles before its next evaluation. A ruleset is compiled when it is
saved: a rule that uses an unknown function, a wrong argument or an unknown
path is refused then (400 naming the rule and the JSON pointer), never at
evaluation. Saved rulesets are versions: saving creates a new one, and a
campaign runs the one it points at (``active_ruleset_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions.applications import ApplicationUnit
from patron.domain.promotions.campaign_records import CampaignRecord, RulesetRecord
from patron.domain.promotions.campaigns import CampaignState, CodeSettings
from patron.domain.promotions.model import Application
from patron.domain.promotions.ports import CampaignReader
from patron.domain.promotions.talang import compile_ruleset
from patron.domain.store import Store

FEATURES = frozenset(
    {"coupons", "referrals", "loyalty", "giveaways", "strikethrough", "achievements"}
)
MAX_NAME = 1000


class CampaignUnit(ApplicationUnit, CampaignReader, Protocol):
    """Storage of campaigns and rulesets."""

    def insert_campaign(self, campaign: CampaignRecord) -> int: ...

    def update_campaign(self, campaign: CampaignRecord) -> None: ...

    def get_campaign(self, application_id: int, campaign_id: int) -> CampaignRecord | None:
        """A campaign of the application that is not deleted."""
        ...

    def list_campaigns(self, application_id: int) -> list[CampaignRecord]: ...

    def delete_campaign(self, application_id: int, campaign_id: int, now: datetime) -> None: ...

    def insert_ruleset(self, ruleset: RulesetRecord) -> int: ...

    def get_ruleset(self, campaign_id: int, ruleset_id: int) -> RulesetRecord | None: ...

    def list_rulesets(self, campaign_id: int) -> list[RulesetRecord]: ...


def validate_campaign(campaign: CampaignRecord) -> list[Problem]:
    problems = []
    if not campaign.name.strip() or len(campaign.name) > MAX_NAME:
        problems.append(Problem(f"1 to {MAX_NAME} characters", "name"))
    if campaign.state not in set(CampaignState):
        problems.append(Problem("one of enabled, disabled, archived", "state"))
    unknown = sorted(set(campaign.features) - FEATURES)
    if unknown:
        problems.append(Problem(f"unknown features {unknown}", "features"))
    if campaign.start_time and campaign.end_time and campaign.end_time <= campaign.start_time:
        problems.append(Problem("must be after startTime", "endTime"))
    for index, limit in enumerate(campaign.limits):
        if not isinstance(limit, Mapping) or not isinstance(limit.get("action"), str):
            problems.append(Problem("a LimitConfig with an action", f"limits.{index}"))
            continue
        amount = limit.get("limit")
        if not isinstance(amount, int | float) or isinstance(amount, bool) or amount < 0:
            problems.append(Problem("a number ≥ 0", f"limits.{index}.limit"))
    for name, settings in (
        ("couponSettings", campaign.coupon_settings),
        ("referralSettings", campaign.referral_settings),
    ):
        problems.extend(_code_settings_problems(name, settings))
    return problems


def _code_settings_problems(name: str, settings: Mapping[str, Any] | None) -> list[Problem]:
    if settings is None:
        return []
    pattern = settings.get("couponPattern")
    characters = settings.get("validCharacters")
    try:
        CodeSettings(
            pattern=pattern if isinstance(pattern, str) else "####-####",
            valid_characters=tuple(characters) if isinstance(characters, list) else ("A",),
        )
    except Invalid as invalid:
        return [replace(p, field=f"{name}.{p.field}") for p in invalid.problems]
    bad_types = (pattern is not None and not isinstance(pattern, str)) or (
        characters is not None and not isinstance(characters, list)
    )
    return [Problem("couponPattern is text, validCharacters a list", name)] if bad_types else []


class CampaignService:
    def __init__(self, store: Store[CampaignUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    # -- campaigns ---------------------------------------------------------------

    async def create(self, workspace_id: str, campaign: CampaignRecord) -> CampaignRecord:
        """Store a new campaign of ``campaign.application_id`` (its id is assigned)."""
        problems = validate_campaign(campaign)
        if problems:
            raise Invalid.of(problems)
        now = self.clock()

        def work(unit: CampaignUnit) -> CampaignRecord:
            _application(unit, workspace_id, campaign.application_id)
            made = replace(campaign, id=0, created_at=now, updated_at=now)
            if made.active_ruleset_id is not None:
                raise Invalid.of([Problem("a new campaign has no rulesets yet", "activeRulesetId")])
            made = replace(made, id=unit.insert_campaign(made))
            unit.bump_promotions_version(campaign.application_id)
            return made

        return await self.store.write(work)

    async def update(
        self, workspace_id: str, application_id: int, campaign_id: int, changes: Mapping[str, Any]
    ) -> CampaignRecord:
        """Change the named fields of a campaign (``CampaignRecord`` field names)."""
        now = self.clock()

        def work(unit: CampaignUnit) -> CampaignRecord:
            current = _campaign(unit, workspace_id, application_id, campaign_id)
            updated = replace(current, **dict(changes), updated_at=now)
            problems = validate_campaign(updated)
            ruleset = updated.active_ruleset_id
            if ruleset is not None and unit.get_ruleset(campaign_id, ruleset) is None:
                problems.append(Problem(f"campaign has no ruleset {ruleset}", "activeRulesetId"))
            if problems:
                raise Invalid.of(problems)
            unit.update_campaign(updated)
            unit.bump_promotions_version(application_id)
            return updated

        return await self.store.write(work)

    async def get(self, workspace_id: str, application_id: int, campaign_id: int) -> CampaignRecord:
        return await self.store.read(
            lambda unit: _campaign(unit, workspace_id, application_id, campaign_id)
        )

    async def list(self, workspace_id: str, application_id: int) -> Sequence[CampaignRecord]:
        def work(unit: CampaignUnit) -> Sequence[CampaignRecord]:
            _application(unit, workspace_id, application_id)
            return unit.list_campaigns(application_id)

        return await self.store.read(work)

    async def delete(self, workspace_id: str, application_id: int, campaign_id: int) -> None:
        now = self.clock()

        def work(unit: CampaignUnit) -> None:
            _campaign(unit, workspace_id, application_id, campaign_id)
            unit.delete_campaign(application_id, campaign_id, now)
            unit.bump_promotions_version(application_id)

        await self.store.write(work)

    # -- rulesets ----------------------------------------------------------------

    async def save_ruleset(
        self,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        document: Mapping[str, Any],
        *,
        activate: bool = False,
    ) -> RulesetRecord:
        """Save a new version of the campaign's rules; ``activate`` makes the campaign run it."""
        compile_ruleset(document)  # RulesetInvalid (400) names the rule and the pointer
        now = self.clock()
        bindings = document.get("bindings") or []
        rb_version = document.get("rbVersion")

        def work(unit: CampaignUnit) -> RulesetRecord:
            campaign = _campaign(unit, workspace_id, application_id, campaign_id)
            ruleset = RulesetRecord(
                id=0,
                campaign_id=campaign_id,
                rules=list(document["rules"]),
                bindings=list(bindings),
                rb_version=rb_version if isinstance(rb_version, str) else None,
                created_at=now,
                activated_at=now if activate else None,
            )
            ruleset = replace(ruleset, id=unit.insert_ruleset(ruleset))
            if activate:
                unit.update_campaign(
                    replace(campaign, active_ruleset_id=ruleset.id, updated_at=now)
                )
                unit.bump_promotions_version(application_id)
            return ruleset

        return await self.store.write(work)

    async def get_ruleset(
        self, workspace_id: str, application_id: int, campaign_id: int, ruleset_id: int
    ) -> RulesetRecord:
        def work(unit: CampaignUnit) -> RulesetRecord:
            _campaign(unit, workspace_id, application_id, campaign_id)
            found = unit.get_ruleset(campaign_id, ruleset_id)
            if found is None:
                raise NotFound("ruleset", ruleset_id)
            return found

        return await self.store.read(work)

    async def list_rulesets(
        self, workspace_id: str, application_id: int, campaign_id: int
    ) -> Sequence[RulesetRecord]:
        def work(unit: CampaignUnit) -> Sequence[RulesetRecord]:
            _campaign(unit, workspace_id, application_id, campaign_id)
            return unit.list_rulesets(campaign_id)

        return await self.store.read(work)


def _application(unit: CampaignUnit, workspace_id: str, application_id: int) -> Application:
    found = unit.get_application(workspace_id, application_id)
    if found is None:
        raise NotFound("application", application_id)
    return found


def _campaign(
    unit: CampaignUnit, workspace_id: str, application_id: int, campaign_id: int
) -> CampaignRecord:
    _application(unit, workspace_id, application_id)
    found = unit.get_campaign(application_id, campaign_id)
    if found is None:
        raise NotFound("campaign", campaign_id)
    return found
