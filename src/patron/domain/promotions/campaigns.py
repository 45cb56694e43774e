"""Campaigns as the engine sees them: settings, limits and a compiled ruleset.

Which campaigns run (SPEC §4.2-7): state ``enabled``, ``start_time ≤ now <
end_time`` (either may be open), and an active ruleset. They run in order of
``priority`` (a smaller number first — a shop's "priority 1" comes first),
then id; all that match apply ("stackable").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.talang import CompiledRuleset

DEFAULT_VALID_CHARACTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
DEFAULT_PATTERN = "####-####"


class CampaignState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    ARCHIVED = "archived"


class LimitAction(StrEnum):
    """Talon's ``LimitConfig.action`` values the engine enforces."""

    REDEEM_COUPON = "redeemCoupon"
    REDEEM_REFERRAL = "redeemReferral"
    SET_DISCOUNT = "setDiscount"
    ADD_LOYALTY_POINTS = "addLoyaltyPoints"
    CREATE_COUPON = "createCoupon"
    CREATE_REFERRAL = "createReferral"


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``limit`` of ``action`` for the campaign, or per customer (entity ``Profile``)."""

    action: LimitAction
    limit: Decimal
    entities: tuple[str, ...] = ("Campaign",)

    @property
    def per_profile(self) -> bool:
        return "Profile" in self.entities


@dataclass(frozen=True, slots=True)
class CodeSettings:
    """How the campaign's generated codes look: ``#`` in the pattern is a random character."""

    pattern: str = DEFAULT_PATTERN
    valid_characters: tuple[str, ...] = DEFAULT_VALID_CHARACTERS
    usage_limit: int = 1  # of each generated code; 0: unlimited

    def __post_init__(self) -> None:
        # Talon's bounds (couponPattern 3 to 100 characters); at least one "#",
        # and characters to fill it with, or every code would be the same.
        problems = []
        if not 3 <= len(self.pattern) <= 100 or "#" not in self.pattern:
            problems.append(Problem("3 to 100 characters, with at least one #", "couponPattern"))
        if not self.valid_characters or any(len(c) != 1 for c in self.valid_characters):
            problems.append(Problem("one or more single characters", "validCharacters"))
        if problems:
            raise Invalid.of(problems)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    ruleset: CompiledRuleset | None  # the active ruleset (None: none activated)
    state: CampaignState = CampaignState.ENABLED
    start_time: datetime | None = None
    end_time: datetime | None = None
    priority: int = 0
    features: frozenset[str] = frozenset()  # coupons, referrals, loyalty
    limits: tuple[Limit, ...] = ()
    coupon_settings: CodeSettings = CodeSettings()
    referral_settings: CodeSettings = CodeSettings()
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    # The limits by action, for the budget checks of every effect.
    _by_action: Mapping[LimitAction, tuple[Limit, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_action = {
            action: tuple(limit for limit in self.limits if limit.action is action)
            for action in LimitAction
        }
        object.__setattr__(self, "_by_action", by_action)

    def running(self, now: datetime) -> bool:
        return (
            self.state is CampaignState.ENABLED
            and self.ruleset is not None
            and (self.start_time is None or self.start_time <= now)
            and (self.end_time is None or now < self.end_time)
        )

    def limits_of(self, action: LimitAction) -> tuple[Limit, ...]:
        return self._by_action[action]


def select(
    campaigns: Iterable[Campaign], now: datetime, only: Collection[int] | None = None
) -> list[Campaign]:
    """The campaigns that run, in the order they run.

    ``only`` (a dry run's ``evaluableCampaignIds``) runs exactly those, even
    disabled ones (never archived ones), as long as they have a ruleset.
    """
    if only is not None:
        chosen = [
            c
            for c in campaigns
            if c.id in only and c.ruleset is not None and c.state is not CampaignState.ARCHIVED
        ]
    else:
        chosen = [c for c in campaigns if c.running(now)]
    return sorted(chosen, key=lambda campaign: (campaign.priority, campaign.id))
