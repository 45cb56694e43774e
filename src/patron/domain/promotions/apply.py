"""Applying a declaration: what differs between the file and the workspace, then changing it.

:meth:`PromotionsApplier.apply` walks the declaration against what exists,
by name, and yields one :class:`Step` per object: created, updated (with the
fields that differ), or unchanged. With ``execute`` it makes each change
through the same services the APIs use, so every rule of theirs holds
(rulesets compile, versions move, keys are issued). Applying the same file
twice finds nothing to change the second time; rules that differ become a
new ruleset version, activated.

Coupons are matched by code within their campaign; loyalty programs by
name, the applications they serve by name too.

The steps are not one transaction: a failure midway (the database going
away) leaves what was done done, and applying the file again finishes the
rest. Every mistake *in the file* is found before anything changes
(:func:`~patron.domain.promotions.declared.read_declaration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

import orjson

from patron.domain.promotions.applications import ApplicationService, IssuedApplication
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.campaign_service import CampaignService
from patron.domain.promotions.coupon_model import CouponQuery, CouponTerms, StoredCoupon
from patron.domain.promotions.coupons import CodeRequest, CouponChanges, CouponService
from patron.domain.promotions.declared import (
    Declaration,
    DeclaredApplication,
    DeclaredCampaign,
    DeclaredCoupons,
)
from patron.domain.promotions.loyalty_service import LoyaltyService
from patron.domain.promotions.model import Application
from patron.domain.tenancy.service import WorkspaceService

# The campaign fields a declaration sets (the rest — ids, times of writing,
# the active ruleset — are the database's).
CAMPAIGN_FIELDS = tuple(
    f.name
    for f in fields(CampaignRecord)
    if f.name
    not in ("id", "application_id", "name", "active_ruleset_id", "created_at", "updated_at")
)
APPLICATION_FIELDS = ("currency", "timezone", "case_sensitivity", "description", "attributes")
COUPON_FIELDS = tuple(f.name for f in fields(CouponTerms))
PROGRAM_FIELDS = (
    "title",
    "description",
    "subscribed_applications",
    "default_validity",
    "default_pending",
    "allow_subledger",
    "timezone",
)


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # create, update, activate, unchanged
    target: str  # "application Shop", "campaign Shop / Spring sale"
    changes: tuple[str, ...] = ()  # what differs, "state: disabled -> enabled"

    @property
    def changes_something(self) -> bool:
        return self.action != "unchanged"


@dataclass
class Applied:
    steps: list[Step] = field(default_factory=list)
    issued: list[IssuedApplication] = field(default_factory=list)  # keys shown only now

    @property
    def changed(self) -> bool:
        return any(step.changes_something for step in self.steps)


class PromotionsApplier:
    def __init__(
        self,
        workspaces: WorkspaceService,
        applications: ApplicationService,
        campaigns: CampaignService,
        coupons: CouponService,
        loyalty: LoyaltyService,
    ) -> None:
        self.workspaces = workspaces
        self.applications = applications
        self.campaigns = campaigns
        self.coupons = coupons
        self.loyalty = loyalty

    async def apply(self, workspace: str, declaration: Declaration, *, execute: bool) -> Applied:
        """The steps from what exists to the declaration; made too if ``execute``."""
        found = await self.workspaces.get(name=workspace)
        existing = {a.name: a for a in await self.applications.of_workspace(workspace_id=found.id)}
        applied = Applied()
        ids: dict[str, int] = {name: a.id for name, a in existing.items()}
        for declared in declaration.applications:
            ids[declared.name] = await self._application(
                applied,
                declared,
                existing.get(declared.name),
                workspace=workspace,
                workspace_id=found.id,
                execute=execute,
            )
        if declaration.loyalty_programs:
            await self._programs(
                applied,
                declaration,
                ids,
                workspace=workspace,
                workspace_id=found.id,
                execute=execute,
            )
        return applied

    async def _programs(
        self,
        applied: Applied,
        declaration: Declaration,
        ids: Mapping[str, int],
        *,
        workspace: str,
        workspace_id: str,
        execute: bool,
    ) -> None:
        """Loyalty programs by name; the applications they serve, by name too."""
        existing = {p.name: p for p in await self.loyalty.of_workspace(workspace_id=workspace_id)}
        for declared in declaration.loyalty_programs:
            # An application created by this plan has no id until applied (0 meanwhile).
            served = tuple(ids.get(name, 0) for name in declared.applications)
            wanted = replace(declared.program, subscribed_applications=served)
            target = f"loyalty program {wanted.name}"
            current = existing.get(wanted.name)
            if current is None:
                applied.steps.append(Step("create", target))
                if execute:
                    await self.loyalty.create(workspace=workspace, program=wanted)
                continue
            have = {name: getattr(current, name) for name in PROGRAM_FIELDS}
            changes = _differences(have, {name: getattr(wanted, name) for name in PROGRAM_FIELDS})
            applied.steps.append(Step("update" if changes else "unchanged", target, changes))
            if changes and execute:
                await self.loyalty.update(
                    workspace_id=workspace_id, program=replace(wanted, id=current.id)
                )

    async def _application(
        self,
        applied: Applied,
        declared: DeclaredApplication,
        current: Application | None,
        *,
        workspace: str,
        workspace_id: str,
        execute: bool,
    ) -> int:
        """The application's steps, and its id (0: planned, not created)."""
        target = f"application {declared.name}"
        wanted = {
            "currency": declared.currency,
            "timezone": declared.timezone,
            "case_sensitivity": declared.case_sensitivity,
            "description": declared.description,
            "attributes": dict(declared.attributes),
        }
        campaigns: dict[str, CampaignRecord] = {}
        if current is None:
            applied.steps.append(Step("create", target))
            if not execute:
                for campaign in declared.campaigns:
                    self._plan_new_campaign(applied, declared.name, campaign)
                return 0
            issued = await self.applications.create(
                workspace=workspace,
                name=declared.name,
                currency=declared.currency,
                timezone=declared.timezone,
                case_sensitivity=declared.case_sensitivity,
                description=declared.description,
                attributes=declared.attributes,
            )
            applied.issued.append(issued)
            current = issued.application
        else:
            have = {name: getattr(current, name) for name in APPLICATION_FIELDS}
            changes = _differences(have, wanted)
            applied.steps.append(Step("update" if changes else "unchanged", target, changes))
            if changes and execute:
                current = await self.applications.update(
                    workspace_id=workspace_id, application_id=current.id, changes=wanted
                )
            listed = await self.campaigns.list(workspace_id, current.id)
            campaigns = {c.name: c for c in listed}
        for campaign in declared.campaigns:
            await self._campaign(
                applied,
                campaign,
                campaigns.get(campaign.record.name),
                workspace_id=workspace_id,
                application_id=current.id,
                app_name=declared.name,
                execute=execute,
            )
        return current.id

    def _plan_new_campaign(
        self, applied: Applied, app_name: str, declared: DeclaredCampaign
    ) -> None:
        target = f"campaign {app_name} / {declared.record.name}"
        applied.steps.append(Step("create", target))
        if declared.ruleset is not None:
            count = len(declared.ruleset["rules"])
            applied.steps.append(Step("activate", f"{target}: ruleset", (f"{count} rules",)))
        for group in declared.coupons:
            applied.steps.append(Step("create", f"{target}: coupons", group.codes))

    async def _campaign(
        self,
        applied: Applied,
        declared: DeclaredCampaign,
        current: CampaignRecord | None,
        *,
        workspace_id: str,
        application_id: int,
        app_name: str,
        execute: bool,
    ) -> None:
        target = f"campaign {app_name} / {declared.record.name}"
        wanted = {name: getattr(declared.record, name) for name in CAMPAIGN_FIELDS}
        if current is None:
            if not execute:
                self._plan_new_campaign(applied, app_name, declared)
                return
            applied.steps.append(Step("create", target))
            current = await self.campaigns.create(
                workspace_id, replace(declared.record, application_id=application_id)
            )
        else:
            have = {name: getattr(current, name) for name in CAMPAIGN_FIELDS}
            changes = _differences(have, wanted)
            applied.steps.append(Step("update" if changes else "unchanged", target, changes))
            if changes and execute:
                current = await self.campaigns.update(
                    workspace_id, application_id, current.id, wanted
                )
        if declared.ruleset is not None and not await self._same_rules(
            workspace_id, current, declared.ruleset
        ):
            count = len(declared.ruleset["rules"])
            applied.steps.append(Step("activate", f"{target}: ruleset", (f"{count} rules",)))
            if execute:
                await self.campaigns.save_ruleset(
                    workspace_id, application_id, current.id, declared.ruleset, activate=True
                )
        for group in declared.coupons:
            await self._coupons(
                applied,
                f"{target}: coupons",
                group,
                current,
                workspace_id=workspace_id,
                execute=execute,
            )

    async def _same_rules(
        self, workspace_id: str, campaign: CampaignRecord, ruleset: Mapping[str, Any]
    ) -> bool:
        if campaign.active_ruleset_id is None:
            return False
        active = await self.campaigns.get_ruleset(
            workspace_id, campaign.application_id, campaign.id, campaign.active_ruleset_id
        )
        return _canonical(active.document()) == _canonical(ruleset)

    async def _coupons(
        self,
        applied: Applied,
        target: str,
        declared: DeclaredCoupons,
        campaign: CampaignRecord,
        *,
        workspace_id: str,
        execute: bool,
    ) -> None:
        """Coupons with the declared codes: the missing ones made, the others' terms updated."""
        found: dict[str, StoredCoupon] = {}
        for code in declared.codes:
            query = CouponQuery(
                application_id=campaign.application_id,
                campaign_id=campaign.id,
                value=code,
                exact_match=True,
            )
            found.update(
                (c.value, c)
                for c in await self.coupons.find(workspace_id=workspace_id, query=query)
            )
        missing = tuple(code for code in declared.codes if code not in found)
        if missing:
            applied.steps.append(Step("create", target, missing))
            if execute:
                await self.coupons.create(
                    workspace_id=workspace_id,
                    application_id=campaign.application_id,
                    campaign_id=campaign.id,
                    terms=declared.terms,
                    request=CodeRequest(count=len(missing), codes=missing),
                    return_coupons=False,
                )
        wanted = {name: getattr(declared.terms, name) for name in COUPON_FIELDS}
        for code in declared.codes:
            coupon = found.get(code)
            if coupon is None:
                continue
            have = {name: getattr(coupon.terms, name) for name in COUPON_FIELDS}
            changes = _differences(have, wanted)
            if not changes:
                continue
            applied.steps.append(Step("update", f"{target} {code}", changes))
            if execute:
                await self.coupons.update(
                    workspace_id=workspace_id,
                    application_id=campaign.application_id,
                    campaign_id=campaign.id,
                    coupon_id=coupon.id,
                    changes=CouponChanges(values=wanted),
                )


def _canonical(value: Any) -> bytes:
    """One spelling of a JSON-like value, so that equal values compare equal (tuples as
    lists, keys sorted, times as ISO text)."""
    return orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_plain
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):  # by value: 5 and 5.00 are the same limit
        return str(value.normalize())
    return list(value)


def _differences(have: Mapping[str, Any], wanted: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        f"{name}: {_shown(have[name])} -> {_shown(wanted[name])}"
        for name in wanted
        if _canonical(have[name]) != _canonical(wanted[name])
    )


def _shown(value: Any) -> str:
    text = _canonical(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."
