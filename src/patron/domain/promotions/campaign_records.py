"""Campaigns and rulesets as stored, and how they become what the engine runs.

A campaign keeps Talon's fields as Talon spells them (limits as
``LimitConfig`` objects, coupon and referral settings as objects), so that
reading one back gives exactly what was written; :func:`definition` turns a
campaign and its active ruleset into the engine's ``CampaignDefinition``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from patron.domain.errors import Invalid
from patron.domain.promotions.campaigns import (
    DEFAULT_PATTERN,
    DEFAULT_VALID_CHARACTERS,
    Campaign,
    CampaignState,
    CodeSettings,
    Limit,
    LimitAction,
)
from patron.domain.promotions.ports import CampaignDefinition

LIMIT_ACTIONS = frozenset(LimitAction)


class FrontendState(StrEnum):
    """What Talon's Campaign Manager shows: the state, and the times, read at one moment."""

    EXPIRED = "expired"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    DISABLED = "disabled"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: int
    application_id: int
    name: str
    state: str = CampaignState.ENABLED
    description: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    priority: int = 0
    type: str = "advanced"
    features: Sequence[str] = ()
    tags: Sequence[str] = ()
    limits: Sequence[Mapping[str, Any]] = ()  # Talon's LimitConfig objects
    coupon_settings: Mapping[str, Any] | None = None
    referral_settings: Mapping[str, Any] | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    active_ruleset_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RulesetRecord:
    id: int
    campaign_id: int
    rules: Sequence[Mapping[str, Any]]
    bindings: Sequence[Mapping[str, Any]] = ()
    rb_version: str | None = None
    created_at: datetime | None = None
    activated_at: datetime | None = None

    def document(self) -> dict[str, Any]:
        """The ruleset as the compiler and Talon's ``Ruleset`` read it."""
        return {"rules": list(self.rules), "bindings": list(self.bindings)}


def frontend_state(record: CampaignRecord, now: datetime) -> FrontendState:
    """``archived`` and ``disabled`` as stored; an enabled campaign is ``expired`` from its
    end time, ``scheduled`` before its start time, else ``running``."""
    if record.state == CampaignState.ARCHIVED:
        return FrontendState.ARCHIVED
    if record.state == CampaignState.DISABLED:
        return FrontendState.DISABLED
    if record.end_time is not None and record.end_time <= now:
        return FrontendState.EXPIRED
    if record.start_time is not None and record.start_time > now:
        return FrontendState.SCHEDULED
    return FrontendState.RUNNING


def code_settings(settings: Mapping[str, Any] | None) -> CodeSettings:
    """A campaign's ``couponSettings`` / ``referralSettings`` as the engine's CodeSettings."""
    if not settings:
        return CodeSettings()
    characters = settings.get("validCharacters") or DEFAULT_VALID_CHARACTERS
    try:
        return CodeSettings(
            pattern=str(settings.get("couponPattern") or DEFAULT_PATTERN),
            valid_characters=tuple(str(c) for c in characters),
        )
    except Invalid:  # checked when saved: only an old row could hold such settings
        return CodeSettings()


def engine_limits(limits: Sequence[Mapping[str, Any]]) -> tuple[Limit, ...]:
    """The limits the engine enforces; others (Talon has more actions) are kept, not enforced."""
    found = []
    for limit in limits:
        action = limit.get("action")
        if action not in LIMIT_ACTIONS:
            continue
        try:
            amount = Decimal(str(limit.get("limit", 0)))
        except InvalidOperation:
            continue
        entities = tuple(str(e) for e in limit.get("entities") or ("Campaign",))
        found.append(Limit(LimitAction(action), amount, entities))
    return tuple(found)


def definition(record: CampaignRecord, ruleset: RulesetRecord | None) -> CampaignDefinition:
    campaign = Campaign(
        id=record.id,
        name=record.name,
        ruleset=None,
        state=CampaignState(record.state),
        start_time=record.start_time,
        end_time=record.end_time,
        priority=record.priority,
        features=frozenset(record.features),
        limits=engine_limits(record.limits),
        coupon_settings=code_settings(record.coupon_settings),
        referral_settings=code_settings(record.referral_settings),
        attributes=dict(record.attributes),
        tags=tuple(record.tags),
    )
    if ruleset is None:
        return CampaignDefinition(campaign, record=record)
    return CampaignDefinition(campaign, ruleset.id, ruleset.document(), record)
