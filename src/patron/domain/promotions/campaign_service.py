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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from patron.domain.clock import utcnow
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions.applications import ApplicationUnit
from patron.domain.promotions.campaign_records import CampaignRecord, RulesetRecord
from patron.domain.promotions.campaign_search import CampaignQuery
from patron.domain.promotions.campaigns import CampaignState, CodeSettings
from patron.domain.promotions.model import Application
from patron.domain.promotions.ports import CampaignReader
from patron.domain.promotions.talang import compile_ruleset
from patron.domain.store import Store

FEATURES = frozenset(
    {"coupons", "referrals", "loyalty", "giveaways", "strikethrough", "achievements"}
)
TYPES = frozenset({"advanced", "cartItem"})
# What every SDK version reads in ``LimitConfig.entities`` (the intersection of their enums).
LIMIT_ENTITIES = frozenset({"Coupon", "Referral", "Profile", "Identifier"})
CODE_PATTERN = re.compile(r"[A-Za-z0-9_#-]*")  # Talon's couponPattern characters
MAX_NAME = 1000
MAX_TAGS = 100
MAX_TAG = 200
MAX_PRIORITY = 2**31 - 1


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

    def mark_ruleset_activated(self, ruleset_id: int, now: datetime) -> None:
        """Record when a ruleset first became its campaign's active one."""
        ...


def validate_campaign(campaign: CampaignRecord) -> list[Problem]:
    problems = []
    if not campaign.name.strip() or len(campaign.name) > MAX_NAME:
        problems.append(Problem(f"1 to {MAX_NAME} characters", "name"))
    if campaign.state not in set(CampaignState):
        problems.append(Problem("one of enabled, disabled, archived", "state"))
    if campaign.type not in TYPES:
        problems.append(Problem("one of advanced, cartItem", "type"))
    unknown = sorted(set(campaign.features) - FEATURES)
    if unknown:
        problems.append(Problem(f"unknown features {unknown}", "features"))
    if len(campaign.tags) > MAX_TAGS or any(not 0 < len(tag) <= MAX_TAG for tag in campaign.tags):
        problems.append(Problem(f"at most {MAX_TAGS} tags of 1 to {MAX_TAG} characters", "tags"))
    if not -MAX_PRIORITY <= campaign.priority <= MAX_PRIORITY:
        problems.append(Problem("a 32-bit integer", "priority"))
    if campaign.start_time and campaign.end_time and campaign.end_time <= campaign.start_time:
        problems.append(Problem("must be after startTime", "endTime"))
    for index, limit in enumerate(campaign.limits):
        problems.extend(_limit_problems(f"limits.{index}", limit))
    for name, settings in (
        ("couponSettings", campaign.coupon_settings),
        ("referralSettings", campaign.referral_settings),
    ):
        problems.extend(_code_settings_problems(name, settings))
    return problems


def _limit_problems(at: str, limit: Any) -> list[Problem]:
    if not isinstance(limit, Mapping) or not isinstance(limit.get("action"), str):
        return [Problem("a LimitConfig with an action", at)]
    problems = []
    amount = limit.get("limit")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or not 0 <= amount < 1e15:
        problems.append(Problem("a number ≥ 0", f"{at}.limit"))
    entities = limit.get("entities")
    if not isinstance(entities, list) or not all(
        isinstance(e, str) and e in LIMIT_ENTITIES for e in entities
    ):
        allowed = ", ".join(sorted(LIMIT_ENTITIES))
        problems.append(Problem(f"a list of {allowed} (empty: the campaign)", f"{at}.entities"))
    if limit.get("period") is not None:
        problems.append(
            Problem("Patron counts limits over the campaign's life: no period", f"{at}.period")
        )
    return problems


def _code_settings_problems(name: str, settings: Mapping[str, Any] | None) -> list[Problem]:
    if settings is None:
        return []
    pattern = settings.get("couponPattern")
    characters = settings.get("validCharacters")
    if isinstance(characters, list) and not all(isinstance(c, str) for c in characters):
        return [Problem("single characters", f"{name}.validCharacters")]
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
    if bad_types:
        return [Problem("couponPattern is text, validCharacters a list", name)]
    if isinstance(pattern, str) and not CODE_PATTERN.fullmatch(pattern):
        return [Problem("letters, digits, _, - and # only", f"{name}.couponPattern")]
    return []


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
            if ruleset is not None and ruleset != current.active_ruleset_id:
                unit.mark_ruleset_activated(ruleset, now)
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

    async def search(
        self, workspace_id: str, application_id: int, query: CampaignQuery
    ) -> tuple[int, Sequence[CampaignRecord]]:
        """The application's campaigns that ``query`` selects: how many, and its page."""
        found = await self.list(workspace_id, application_id)
        return query.select(found, self.clock())

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
        return await self._save_ruleset(
            workspace_id, application_id, campaign_id, document, activate=activate, replaces=None
        )

    async def replace_ruleset(
        self,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        ruleset_id: int,
        document: Mapping[str, Any],
        *,
        activate: bool | None = None,
    ) -> RulesetRecord:
        """Talon's update of a ruleset. Rulesets are versions (effects and failure reasons
        name them), so the changed rules are saved as a new version, answered with its new
        id; it becomes active if ``activate``, or, when ``activate`` is None, if the version
        it replaces was the campaign's active one. NotFound if that is not the campaign's."""
        return await self._save_ruleset(
            workspace_id,
            application_id,
            campaign_id,
            document,
            activate=activate,
            replaces=ruleset_id,
        )

    async def _save_ruleset(
        self,
        workspace_id: str,
        application_id: int,
        campaign_id: int,
        document: Mapping[str, Any],
        *,
        activate: bool | None,
        replaces: int | None,
    ) -> RulesetRecord:
        compile_ruleset(document)  # RulesetInvalid (400) names the rule and the pointer
        now = self.clock()
        bindings = document.get("bindings") or []
        rb_version = document.get("rbVersion")

        def work(unit: CampaignUnit) -> RulesetRecord:
            campaign = _campaign(unit, workspace_id, application_id, campaign_id)
            active = activate
            if replaces is not None:
                if unit.get_ruleset(campaign_id, replaces) is None:
                    raise NotFound("ruleset", replaces)
                if active is None:
                    active = campaign.active_ruleset_id == replaces
            ruleset = RulesetRecord(
                id=0,
                campaign_id=campaign_id,
                rules=list(document["rules"]),
                bindings=list(bindings),
                rb_version=rb_version if isinstance(rb_version, str) else None,
                created_at=now,
                activated_at=now if active else None,
            )
            ruleset = replace(ruleset, id=unit.insert_ruleset(ruleset))
            if active:
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
