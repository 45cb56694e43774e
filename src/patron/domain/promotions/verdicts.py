"""Coupon and referral verdicts before any rule runs (SPEC §4.2-8).

Each code goes through a table of checks in a fixed order; the first that
fails is the rejection reason, so the same session always gets the same
reason. :data:`COUPON_PRECEDENCE` and :data:`REFERRAL_PRECEDENCE` are those
orders, ending with the two reasons only the rules can give (no rule that
tests the code fired; a rule fired but one of its effects hit a limit).

A code that passes is in scope for its campaign's rules — one coupon per
campaign per evaluation: the first valid code, in the order the session
lists them; a later valid code of the same campaign is rejected
(``CouponRejectedByCondition``, with details saying why).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from patron.domain.promotions.campaigns import Campaign, Limit, LimitAction
from patron.domain.promotions.model import Coupon, Profile, Referral, Usage

ZERO = Decimal(0)


class CouponRejection(StrEnum):
    NOT_FOUND = "CouponNotFound"
    PART_OF_NOT_RUNNING_CAMPAIGN = "CouponPartOfNotRunningCampaign"
    PART_OF_NOT_TRIGGERED_CAMPAIGN = "CouponPartOfNotTriggeredCampaign"
    START_DATE_IN_FUTURE = "CouponStartDateInFuture"
    EXPIRED = "CouponExpired"
    RECIPIENT_DOES_NOT_MATCH = "CouponRecipientDoesNotMatch"
    PROFILE_REQUIRED = "ProfileRequired"
    RESERVATION_REQUIRED = "CouponReservationRequired"
    LIMIT_REACHED = "CouponLimitReached"
    PROFILE_LIMIT_REACHED = "ProfileLimitReached"
    CAMPAIGN_LIMIT_REACHED = "CampaignLimitReached"
    REJECTED_BY_CONDITION = "CouponRejectedByCondition"
    EFFECT_COULD_NOT_BE_APPLIED = "EffectCouldNotBeApplied"


class ReferralRejection(StrEnum):
    NOT_FOUND = "ReferralNotFound"
    PART_OF_NOT_RUNNING_CAMPAIGN = "ReferralPartOfNotRunningCampaign"
    PART_OF_NOT_TRIGGERED_CAMPAIGN = "ReferralPartOfNotTriggeredCampaign"
    START_DATE_IN_FUTURE = "ReferralStartDateInFuture"
    EXPIRED = "ReferralExpired"
    RECIPIENT_ID_SAME_AS_ADVOCATE = "ReferralRecipientIdSameAsAdvocate"
    RECIPIENT_DOES_NOT_MATCH = "ReferralRecipientDoesNotMatch"
    LIMIT_REACHED = "ReferralLimitReached"
    PROFILE_LIMIT_REACHED = "ProfileLimitReached"
    CAMPAIGN_LIMIT_REACHED = "CampaignLimitReached"
    REJECTED_BY_CONDITION = "ReferralRejectedByCondition"
    EFFECT_COULD_NOT_BE_APPLIED = "EffectCouldNotBeApplied"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the checks need besides the code itself."""

    campaigns: Mapping[int, Campaign]  # every campaign of the application, by id
    selected: Collection[int]  # the ids of the campaigns this evaluation runs
    profile: Profile
    usage: Mapping[int, Usage]
    now: datetime


Check = Callable[[Coupon, Facts], str | None]
ReferralCheck = Callable[[Referral, Facts], str | None]


def _not_running(campaign_id: int, facts: Facts) -> str | None:
    campaign = facts.campaigns.get(campaign_id)
    if campaign is None:
        return f"campaign {campaign_id} does not exist"
    if campaign_id in facts.selected or campaign.running(facts.now):
        return None
    return f"campaign {campaign.name!r} is not running ({campaign.state})"


def _not_triggered(campaign_id: int, facts: Facts) -> str | None:
    if campaign_id in facts.selected:
        return None
    return "its campaign is not among the campaigns evaluated"


def _not_yet(start: datetime | None, facts: Facts) -> str | None:
    return f"valid from {start.isoformat()}" if start is not None and start > facts.now else None


def _over(expiry: datetime | None, facts: Facts) -> str | None:
    return (
        f"expired at {expiry.isoformat()}" if expiry is not None and expiry <= facts.now else None
    )


def limit_reached(
    campaign: Campaign | None, action: LimitAction, usage: Usage | None, *, per_profile: bool
) -> Limit | None:
    """The first of the campaign's limits on ``action`` already used up, if any."""
    if campaign is None:
        return None
    for limit in campaign.limits_of(action):
        if limit.per_profile != per_profile or limit.limit <= 0:
            continue
        counters = (usage.profile if per_profile else usage.campaign) if usage else {}
        if counters.get(action.value, ZERO) >= limit.limit:
            return limit
    return None


def _campaign_limit(action: LimitAction, per_profile: bool) -> Callable[[int, Facts], str | None]:
    def check(campaign_id: int, facts: Facts) -> str | None:
        campaign = facts.campaigns.get(campaign_id)
        reached = limit_reached(
            campaign, action, facts.usage.get(campaign_id), per_profile=per_profile
        )
        if reached is None:
            return None
        whose = "this customer's" if per_profile else "the campaign's"
        return f"{whose} limit of {reached.limit} {action.value} is reached"

    return check


def _recipient(coupon: Coupon, facts: Facts) -> str | None:
    wanted = coupon.recipient_integration_id
    if wanted and wanted != facts.profile.integration_id:
        return "the coupon is for another customer"
    return None


def _reservation_profile(coupon: Coupon, facts: Facts) -> str | None:
    if coupon.is_reservation_mandatory and facts.profile.anonymous:
        return "the coupon must be reserved, and the session has no customer"
    return None


def _reservation(coupon: Coupon, facts: Facts) -> str | None:
    if not coupon.is_reservation_mandatory or coupon.implicitly_reserved:
        return None
    if facts.profile.integration_id in coupon.reserved_by:
        return None
    return "the customer holds no reservation of the coupon"


def _usage(coupon: Coupon, _facts: Facts) -> str | None:
    if coupon.usage_limit > 0 and coupon.usage_counter >= coupon.usage_limit:
        return f"used {coupon.usage_counter} of {coupon.usage_limit} times"
    return None


def _profile_needed(coupon: Coupon, facts: Facts) -> str | None:
    if not facts.profile.anonymous:
        return None
    campaign = facts.campaigns.get(coupon.campaign_id)
    per_campaign = campaign is not None and any(
        limit.per_profile and limit.limit > 0
        for limit in campaign.limits_of(LimitAction.REDEEM_COUPON)
    )
    if coupon.per_profile_limit > 0 or per_campaign:
        return "a per-customer limit applies, and the session has no customer"
    return None


def _profile_usage(coupon: Coupon, facts: Facts) -> str | None:
    if coupon.per_profile_limit > 0 and coupon.profile_redemptions >= coupon.per_profile_limit:
        return f"this customer redeemed it {coupon.profile_redemptions} times already"
    return _campaign_limit(LimitAction.REDEEM_COUPON, True)(coupon.campaign_id, facts)


def _of_coupon(check: Callable[[int, Facts], str | None]) -> Check:
    return lambda coupon, facts: check(coupon.campaign_id, facts)


# The order coupon checks run in: the first failing one is the reason.
COUPON_CHECKS: tuple[tuple[CouponRejection, Check], ...] = (
    (CouponRejection.PART_OF_NOT_RUNNING_CAMPAIGN, _of_coupon(_not_running)),
    (CouponRejection.PART_OF_NOT_TRIGGERED_CAMPAIGN, _of_coupon(_not_triggered)),
    (CouponRejection.START_DATE_IN_FUTURE, lambda c, f: _not_yet(c.start_date, f)),
    (CouponRejection.EXPIRED, lambda c, f: _over(c.expiry_date, f)),
    (CouponRejection.RECIPIENT_DOES_NOT_MATCH, _recipient),
    (CouponRejection.PROFILE_REQUIRED, _reservation_profile),
    (CouponRejection.RESERVATION_REQUIRED, _reservation),
    (CouponRejection.LIMIT_REACHED, _usage),
    (CouponRejection.PROFILE_REQUIRED, _profile_needed),
    (CouponRejection.PROFILE_LIMIT_REACHED, _profile_usage),
    (
        CouponRejection.CAMPAIGN_LIMIT_REACHED,
        _of_coupon(_campaign_limit(LimitAction.REDEEM_COUPON, False)),
    ),
)
COUPON_PRECEDENCE = (
    CouponRejection.NOT_FOUND,
    *(reason for reason, _ in COUPON_CHECKS),
    CouponRejection.REJECTED_BY_CONDITION,
    CouponRejection.EFFECT_COULD_NOT_BE_APPLIED,
)


def _same_as_advocate(referral: Referral, facts: Facts) -> str | None:
    advocate = referral.advocate_integration_id
    if advocate in (facts.profile.integration_id, referral.friend_integration_id):
        return "the advocate cannot redeem their own referral"
    return None


def _friend(referral: Referral, facts: Facts) -> str | None:
    friend = referral.friend_integration_id
    if friend and friend != facts.profile.integration_id:
        return "the referral is for another customer"
    return None


def _referral_usage(referral: Referral, _facts: Facts) -> str | None:
    if referral.usage_limit > 0 and referral.usage_counter >= referral.usage_limit:
        return f"used {referral.usage_counter} of {referral.usage_limit} times"
    return None


def _referral_profile_limit(referral: Referral, facts: Facts) -> str | None:
    campaign = facts.campaigns.get(referral.campaign_id)
    limited = campaign is not None and any(
        limit.per_profile and limit.limit > 0
        for limit in campaign.limits_of(LimitAction.REDEEM_REFERRAL)
    )
    if limited and facts.profile.anonymous:
        return "a per-customer limit applies, and the session has no customer"
    return _campaign_limit(LimitAction.REDEEM_REFERRAL, True)(referral.campaign_id, facts)


def _of_referral(check: Callable[[int, Facts], str | None]) -> ReferralCheck:
    return lambda referral, facts: check(referral.campaign_id, facts)


REFERRAL_CHECKS: tuple[tuple[ReferralRejection, ReferralCheck], ...] = (
    (ReferralRejection.PART_OF_NOT_RUNNING_CAMPAIGN, _of_referral(_not_running)),
    (ReferralRejection.PART_OF_NOT_TRIGGERED_CAMPAIGN, _of_referral(_not_triggered)),
    (ReferralRejection.START_DATE_IN_FUTURE, lambda r, f: _not_yet(r.start_date, f)),
    (ReferralRejection.EXPIRED, lambda r, f: _over(r.expiry_date, f)),
    (ReferralRejection.RECIPIENT_ID_SAME_AS_ADVOCATE, _same_as_advocate),
    (ReferralRejection.RECIPIENT_DOES_NOT_MATCH, _friend),
    (ReferralRejection.LIMIT_REACHED, _referral_usage),
    (ReferralRejection.PROFILE_LIMIT_REACHED, _referral_profile_limit),
    (
        ReferralRejection.CAMPAIGN_LIMIT_REACHED,
        _of_referral(_campaign_limit(LimitAction.REDEEM_REFERRAL, False)),
    ),
)
REFERRAL_PRECEDENCE = (
    ReferralRejection.NOT_FOUND,
    *(reason for reason, _ in REFERRAL_CHECKS),
    ReferralRejection.REJECTED_BY_CONDITION,
    ReferralRejection.EFFECT_COULD_NOT_BE_APPLIED,
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected coupon (or referral) code, and the rule that rejected it if any."""

    code: str  # as the session sent it
    reason: str
    details: str
    id: int | None = None  # the coupon's (or referral's), when the code named one
    campaign_id: int | None = None
    referral: bool = False
    rule_index: int | None = None
    rule_name: str = ""
    condition_index: int | None = None
    effect_index: int | None = None


def screen_coupon(coupon: Coupon, facts: Facts) -> tuple[CouponRejection, str] | None:
    for reason, check in COUPON_CHECKS:
        details = check(coupon, facts)
        if details is not None:
            return reason, details
    return None


def screen_referral(referral: Referral, facts: Facts) -> tuple[ReferralRejection, str] | None:
    for reason, check in REFERRAL_CHECKS:
        details = check(referral, facts)
        if details is not None:
            return reason, details
    return None
