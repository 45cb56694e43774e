"""Every coupon and referral rejection reason of SPEC §4.2-8, and their precedence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from patron.domain.promotions.campaigns import CampaignState, Limit, LimitAction
from patron.domain.promotions.model import (
    Coupon,
    LoyaltyProgram,
    Profile,
    Referral,
    Session,
    Usage,
)
from patron.domain.promotions.verdicts import (
    COUPON_PRECEDENCE,
    REFERRAL_PRECEDENCE,
    CouponRejection,
    ReferralRejection,
)
from tests.domain.promotions.support import NOW, D, campaign, cart, rule, run, types

COUPON_RULE = rule("coupon", ["and", ["couponValid"]], ["setDiscount", "coupon", 5])
REFERRAL_RULE = rule("referral", ["and", ["referralValid"]], ["setDiscount", "referral", 5])
LATER = NOW + timedelta(days=1)
EARLIER = NOW - timedelta(days=1)


def coupon_session(*codes: str) -> Session:
    return Session("s", cart_items=cart(("sock", 1, "50.00")), coupon_codes=codes)


def coupon_verdict(coupon: Coupon | None, *, profile: Profile | None = None, **settings: Any):
    """The reject effect's (reason, details) for code "CODE" of campaign 1, or "accepted"."""
    extra = settings.pop("extra_campaigns", ())
    usage = settings.pop("usage", {})
    only = settings.pop("only", None)
    campaigns = [campaign(1, COUPON_RULE, **settings), *extra]
    evaluation = run(
        *campaigns,
        session=coupon_session("CODE"),
        profile=profile if profile is not None else Profile("cust-1"),
        coupons={"CODE": coupon} if coupon else {},
        usage=usage,
        only=only,
    )
    if evaluation.of_type("acceptCoupon"):
        return "accepted"
    (reject,) = evaluation.of_type("rejectCoupon")
    return reject.props.props()["rejectionReason"]


def coupon(**fields: Any) -> Coupon:
    return Coupon(**{"id": 10, "code": "CODE", "campaign_id": 1, **fields})


ANONYMOUS = Profile("")
PER_PROFILE = (Limit(LimitAction.REDEEM_COUPON, D(1), ("Profile",)),)
PER_CAMPAIGN = (Limit(LimitAction.REDEEM_COUPON, D(5)),)

# (coupon, settings, reason) — each fails exactly one check
COUPON_CASES: list[tuple[Coupon | None, dict[str, Any], str]] = [
    (None, {}, "CouponNotFound"),
    (coupon(), {"state": CampaignState.DISABLED}, "CouponPartOfNotRunningCampaign"),
    (coupon(), {"end_time": EARLIER}, "CouponPartOfNotRunningCampaign"),
    (coupon(campaign_id=99), {}, "CouponPartOfNotRunningCampaign"),
    (
        coupon(),
        {"only": [2], "extra_campaigns": [campaign(2, COUPON_RULE)]},
        "CouponPartOfNotTriggeredCampaign",
    ),
    (coupon(start_date=LATER), {}, "CouponStartDateInFuture"),
    (coupon(expiry_date=NOW), {}, "CouponExpired"),
    (coupon(recipient_integration_id="someone-else"), {}, "CouponRecipientDoesNotMatch"),
    (coupon(is_reservation_mandatory=True), {"profile": ANONYMOUS}, "ProfileRequired"),
    (coupon(is_reservation_mandatory=True), {}, "CouponReservationRequired"),
    (coupon(usage_limit=3, usage_counter=3), {}, "CouponLimitReached"),
    (coupon(per_profile_limit=1), {"profile": ANONYMOUS}, "ProfileRequired"),
    (coupon(), {"limits": PER_PROFILE, "profile": ANONYMOUS}, "ProfileRequired"),
    (coupon(per_profile_limit=2, profile_redemptions=2), {}, "ProfileLimitReached"),
    (
        coupon(),
        {"limits": PER_PROFILE, "usage": {1: Usage(profile={"redeemCoupon": D(1)})}},
        "ProfileLimitReached",
    ),
    (
        coupon(),
        {"limits": PER_CAMPAIGN, "usage": {1: Usage(campaign={"redeemCoupon": D(5)})}},
        "CampaignLimitReached",
    ),
]


@pytest.mark.parametrize(
    ("found", "settings", "reason"),
    COUPON_CASES,
    ids=[f"{c[2]}-{i}" for i, c in enumerate(COUPON_CASES)],
)
def test_coupon_rejection_reason(
    found: Coupon | None, settings: dict[str, Any], reason: str
) -> None:
    settings = dict(settings)
    profile = settings.pop("profile", None)
    assert coupon_verdict(found, profile=profile, **settings) == reason


def test_a_valid_coupon_is_accepted_and_variants_that_pass_each_check() -> None:
    assert coupon_verdict(coupon()) == "accepted"
    assert coupon_verdict(coupon(start_date=NOW, expiry_date=LATER)) == "accepted"
    assert coupon_verdict(coupon(recipient_integration_id="cust-1")) == "accepted"
    assert (
        coupon_verdict(coupon(is_reservation_mandatory=True, reserved_by=frozenset({"cust-1"})))
        == "accepted"
    )
    assert (
        coupon_verdict(coupon(is_reservation_mandatory=True, implicitly_reserved=True))
        == "accepted"
    )
    assert coupon_verdict(coupon(usage_limit=3, usage_counter=2)) == "accepted"
    assert coupon_verdict(coupon(), only=[1], state=CampaignState.DISABLED) == "accepted"


def test_rule_stage_reasons() -> None:
    failing = rule(
        "coupon",
        ["and", ["couponValid"], [">", [".", "Session", "Total"], 100]],
        ["setDiscount", "x", 5],
    )
    evaluation = run(
        campaign(1, failing), session=coupon_session("CODE"), coupons={"CODE": coupon()}
    )
    (reject,) = evaluation.of_type("rejectCoupon")
    assert reject.props.props() == {
        "value": "CODE",
        "rejectionReason": "CouponRejectedByCondition",
        "conditionIndex": 1,
        "details": "Session.Total (50) > 100 is false",
    }
    assert (reject.campaign_id, reject.ruleset_id, reject.rule_index, reject.rule_name) == (
        1,
        100,
        0,
        "coupon",
    )
    over_budget = rule("coupon", ["and", ["couponValid"]], ["setDiscount", "x", 5])
    limits = (Limit(LimitAction.SET_DISCOUNT, D(3)),)
    evaluation = run(
        campaign(1, over_budget, limits=limits),
        session=coupon_session("CODE"),
        coupons={"CODE": coupon()},
    )
    (reject,) = evaluation.of_type("rejectCoupon")
    assert reject.props.props()["rejectionReason"] == "EffectCouldNotBeApplied"
    assert reject.props.props()["effectIndex"] == 0


def test_a_campaign_without_a_coupon_rule_rejects_its_coupon_by_condition() -> None:
    plain = rule("plain", ["and", True], ["setDiscount", "x", 1])
    evaluation = run(campaign(1, plain), session=coupon_session("CODE"), coupons={"CODE": coupon()})
    (reject,) = evaluation.of_type("rejectCoupon")
    assert reject.props.props()["rejectionReason"] == "CouponRejectedByCondition"
    assert reject.rule_index == -1
    assert types(evaluation) == ["setDiscount", "rejectCoupon"]


def test_one_coupon_per_campaign() -> None:
    evaluation = run(
        campaign(1, COUPON_RULE),
        session=coupon_session("A", "B"),
        coupons={"A": coupon(id=1, code="A"), "B": coupon(id=2, code="B")},
    )
    assert types(evaluation) == ["acceptCoupon", "setDiscount", "rejectCoupon"]
    rejected = evaluation.of_type("rejectCoupon")[0].props.props()
    assert rejected["value"] == "B"
    assert rejected["rejectionReason"] == "CouponRejectedByCondition"
    assert "one coupon per campaign" in rejected["details"]


def test_the_same_coupon_named_twice_gets_one_verdict() -> None:
    same = coupon()
    evaluation = run(
        campaign(1, COUPON_RULE),
        session=coupon_session("CODE", "code"),
        coupons={"CODE": same, "code": same},
    )
    assert types(evaluation) == ["acceptCoupon", "setDiscount"]


# Pairs of failures: the coupon fails both checks; the reason is the earlier one.
PAIRS: list[tuple[Coupon, dict[str, Any], str]] = [
    (
        coupon(start_date=LATER, expiry_date=EARLIER),
        {"state": CampaignState.DISABLED},
        "CouponPartOfNotRunningCampaign",
    ),
    (coupon(start_date=LATER, expiry_date=EARLIER), {}, "CouponStartDateInFuture"),
    (coupon(expiry_date=EARLIER, recipient_integration_id="x"), {}, "CouponExpired"),
    (
        coupon(recipient_integration_id="x", is_reservation_mandatory=True),
        {},
        "CouponRecipientDoesNotMatch",
    ),
    (
        coupon(is_reservation_mandatory=True, usage_limit=1, usage_counter=1),
        {"profile": ANONYMOUS},
        "ProfileRequired",
    ),
    (
        coupon(is_reservation_mandatory=True, usage_limit=1, usage_counter=1),
        {},
        "CouponReservationRequired",
    ),
    (
        coupon(usage_limit=1, usage_counter=1, per_profile_limit=1, profile_redemptions=1),
        {},
        "CouponLimitReached",
    ),
    (
        coupon(per_profile_limit=1, profile_redemptions=1),
        {"limits": PER_CAMPAIGN, "usage": {1: Usage(campaign={"redeemCoupon": D(9)})}},
        "ProfileLimitReached",
    ),
]


@pytest.mark.parametrize(("found", "settings", "reason"), PAIRS, ids=[p[2] for p in PAIRS])
def test_the_earlier_check_wins(found: Coupon, settings: dict[str, Any], reason: str) -> None:
    settings = dict(settings)
    profile = settings.pop("profile", None)
    assert coupon_verdict(found, profile=profile, **settings) == reason


def test_the_precedence_tables_hold_every_reason_once_in_order() -> None:
    assert [r.value for r in COUPON_PRECEDENCE] == [
        "CouponNotFound",
        "CouponPartOfNotRunningCampaign",
        "CouponPartOfNotTriggeredCampaign",
        "CouponStartDateInFuture",
        "CouponExpired",
        "CouponRecipientDoesNotMatch",
        "ProfileRequired",
        "CouponReservationRequired",
        "CouponLimitReached",
        "ProfileRequired",
        "ProfileLimitReached",
        "CampaignLimitReached",
        "CouponRejectedByCondition",
        "EffectCouldNotBeApplied",
    ]
    assert set(COUPON_PRECEDENCE) == set(CouponRejection)
    assert set(REFERRAL_PRECEDENCE) == set(ReferralRejection)
    assert len(REFERRAL_PRECEDENCE) == len(set(REFERRAL_PRECEDENCE))


def referral(**fields: Any) -> Referral:
    return Referral(
        **{"id": 20, "code": "REF", "campaign_id": 1, "advocate_integration_id": "adv", **fields}
    )


def referral_verdict(
    found: Referral | None, *, profile: Profile | None = None, **settings: Any
) -> str:
    usage = settings.pop("usage", {})
    only = settings.pop("only", None)
    extra = settings.pop("extra", ())
    campaigns = [campaign(1, REFERRAL_RULE, **settings), *extra]
    evaluation = run(
        *campaigns,
        session=Session("s", cart_items=cart(("x", 1, "50")), referral_code="REF"),
        profile=profile if profile is not None else Profile("cust-1"),
        referral=found,
        usage=usage,
        only=only,
    )
    if evaluation.of_type("acceptReferral"):
        assert evaluation.accepted_referral is not None
        return "accepted"
    (reject,) = evaluation.of_type("rejectReferral")
    assert reject.triggered_by_coupon is None
    return str(reject.props.props()["rejectionReason"])


REFERRAL_LIMIT = (Limit(LimitAction.REDEEM_REFERRAL, D(2)),)
REFERRAL_PROFILE_LIMIT = (Limit(LimitAction.REDEEM_REFERRAL, D(1), ("Profile",)),)
REFERRAL_CASES: list[tuple[Referral | None, dict[str, Any], str]] = [
    (None, {}, "ReferralNotFound"),
    (referral(), {"state": CampaignState.ARCHIVED}, "ReferralPartOfNotRunningCampaign"),
    (referral(), {"only": [2]}, "ReferralPartOfNotTriggeredCampaign"),
    (referral(start_date=LATER), {}, "ReferralStartDateInFuture"),
    (referral(expiry_date=EARLIER), {}, "ReferralExpired"),
    (referral(advocate_integration_id="cust-1"), {}, "ReferralRecipientIdSameAsAdvocate"),
    (referral(friend_integration_id="adv"), {}, "ReferralRecipientIdSameAsAdvocate"),
    (referral(friend_integration_id="friend"), {}, "ReferralRecipientDoesNotMatch"),
    (referral(usage_limit=1, usage_counter=1), {}, "ReferralLimitReached"),
    (
        referral(),
        {"limits": REFERRAL_PROFILE_LIMIT, "usage": {1: Usage(profile={"redeemReferral": D(1)})}},
        "ProfileLimitReached",
    ),
    (referral(), {"limits": REFERRAL_PROFILE_LIMIT, "profile": ANONYMOUS}, "ProfileLimitReached"),
    (
        referral(),
        {"limits": REFERRAL_LIMIT, "usage": {1: Usage(campaign={"redeemReferral": D(2)})}},
        "CampaignLimitReached",
    ),
    (referral(expiry_date=EARLIER, usage_limit=1, usage_counter=1), {}, "ReferralExpired"),
    (
        referral(friend_integration_id="friend", usage_limit=1, usage_counter=1),
        {},
        "ReferralRecipientDoesNotMatch",
    ),
]


@pytest.mark.parametrize(
    ("found", "settings", "reason"),
    REFERRAL_CASES,
    ids=[f"{c[2]}-{i}" for i, c in enumerate(REFERRAL_CASES)],
)
def test_referral_rejection_reason(
    found: Referral | None, settings: dict[str, Any], reason: str
) -> None:
    settings = dict(settings)
    profile = settings.pop("profile", None)
    if settings.get("only") == [2]:
        settings["extra"] = (campaign(2, REFERRAL_RULE),)
    assert referral_verdict(found, profile=profile, **settings) == reason


def test_referral_rule_stage_reasons_and_acceptance() -> None:
    assert referral_verdict(referral(friend_integration_id="cust-1")) == "accepted"
    failing = rule("r", ["and", ["referralValid"], ["=", 1, 2]], ["noop"])
    evaluation = run(
        campaign(1, failing), session=Session("s", referral_code="REF"), referral=referral()
    )
    (reject,) = evaluation.of_type("rejectReferral")
    assert reject.props.props()["rejectionReason"] == "ReferralRejectedByCondition"
    limited = rule("r", ["and", ["referralValid"]], ["addLoyaltyPoints", 7, 5])
    evaluation = run(
        campaign(1, limited, limits=(Limit(LimitAction.ADD_LOYALTY_POINTS, D(1)),)),
        session=Session("s", referral_code="REF"),
        referral=referral(),
        loyalty={"7": LoyaltyProgram(7)},
    )
    (reject,) = evaluation.of_type("rejectReferral")
    assert reject.props.props()["rejectionReason"] == "EffectCouldNotBeApplied"
