"""evaluate(): selection, order, failure reasons, every effect's props, errors, determinism."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from patron.domain.errors import Invalid
from patron.domain.promotions.campaigns import CampaignState, CodeSettings, Limit, LimitAction
from patron.domain.promotions.codes import fill_pattern
from patron.domain.promotions.model import (
    Coupon,
    LoyaltyBalance,
    LoyaltyProgram,
    Profile,
    Session,
)
from tests.domain.promotions.support import NOW, D, campaign, cart, rule, run, types

ALWAYS = ["and", True]


def discount(name: str, amount: Any = 1) -> list[Any]:
    return ["setDiscount", name, amount]


def test_talon_spec_examples() -> None:
    """SPEC §3.2's three rules, on a session with a valid, an unknown coupon and a referral."""
    rules = [
        rule("Free money for all!", ["and", ["couponValid"]], discount("Free money", 45.55)),
        rule("Unconditional", ["and", True], discount("Free money 2", 45.55)),
        rule(
            "10% over 100",
            ["and", [">", [".", "Session", "Total"], 100]],
            [
                "catch",
                ["noop"],
                ["setDiscount", "10% off", ["*", [".", "Session", "Total"], ["/", 10, 100]]],
            ],
        ),
    ]
    session = Session(
        "s", cart_items=cart(("a", 1, "200")), coupon_codes=("GOOD", "BAD"), referral_code="NOPE"
    )
    evaluation = run(campaign(1, *rules), session=session, coupons={"GOOD": Coupon(5, "GOOD", 1)})
    assert types(evaluation) == [
        "acceptCoupon",
        "setDiscount",
        "setDiscount",
        "setDiscount",
        "rejectCoupon",
        "rejectReferral",
    ]
    values = [e.props.props()["value"] for e in evaluation.of_type("setDiscount")]
    assert values == [D("45.55"), D("45.55"), D("20.00")]
    accept, first = evaluation.effects[0], evaluation.effects[1]
    assert (accept.triggered_by_coupon, first.triggered_by_coupon) == (5, 5)
    assert evaluation.effects[2].triggered_by_coupon is None
    assert [(e.campaign_id, e.ruleset_id, e.rule_index) for e in evaluation.effects[:4]] == [
        (1, 100, 0),
        (1, 100, 0),
        (1, 100, 1),
        (1, 100, 2),
    ]
    unknown = evaluation.effects[4]
    assert (unknown.campaign_id, unknown.ruleset_id, unknown.rule_index) == (-1, -1, -1)
    assert evaluation.accepted_coupons[0].code == "GOOD"
    assert evaluation.triggered_campaigns == (1,)


def test_campaigns_run_by_priority_then_id_and_only_the_running_ones() -> None:
    campaigns = [
        campaign(3, rule("r", ALWAYS, discount("c3")), priority=1),
        campaign(2, rule("r", ALWAYS, discount("c2")), priority=1),
        campaign(1, rule("r", ALWAYS, discount("c1")), priority=5),
        campaign(4, rule("r", ALWAYS, discount("disabled")), state=CampaignState.DISABLED),
        campaign(5, rule("r", ALWAYS, discount("archived")), state=CampaignState.ARCHIVED),
        campaign(6, rule("r", ALWAYS, discount("future")), start_time=NOW + timedelta(1)),
        campaign(7, rule("r", ALWAYS, discount("ended")), end_time=NOW),
        campaign(8, rule("r", ALWAYS, discount("started")), start_time=NOW, priority=9),
    ]
    names = [e.props.props()["name"] for e in run(*campaigns).effects]
    assert names == ["c2", "c3", "c1", "started"]
    only = run(*campaigns, only=[4, 5, 1])
    assert [e.props.props()["name"] for e in only.effects] == ["disabled", "c1"]  # 0 before 5


def test_rules_run_in_index_order_and_failures_are_explained() -> None:
    rules = [
        rule("big", ["and", ALWAYS[1], [">", [".", "Session", "Total"], 100]], discount("big")),
        rule("small", ["<", [".", "Session", "Total"], 100], discount("small"), discount("more")),
        rule("vip", ["and", ["segment", "VIP"]], discount("vip")),
        rule("attr", ["and", [".", "Profile", "Attributes", "tier"]], discount("gold")),
        rule("coupon", ["and", ["couponValid"]], discount("coupon")),
    ]
    evaluation = run(campaign(1, *rules, name="Spring"))
    assert [(e.rule_index, e.props.props()["name"]) for e in evaluation.effects] == [
        (1, "small"),
        (1, "more"),
    ]
    reasons = [
        (r.rule_index, r.condition_index, r.details) for r in evaluation.rule_failure_reasons
    ]
    assert reasons == [
        (0, 1, "Session.Total (80) > 100 is false"),
        (2, 0, 'the customer is not in segment "VIP"'),
        (3, 0, "Profile.Attributes.tier failed: Profile.Attributes.tier is not set"),
        (4, 0, "no valid coupon of this campaign is in the session"),
    ]
    first = evaluation.rule_failure_reasons[0]
    assert (first.campaign_id, first.campaign_name, first.ruleset_id, first.rule_name) == (
        1,
        "Spring",
        100,
        "big",
    )


def test_failure_reasons_of_a_coupon_rule_name_the_coupon() -> None:
    failing = rule("coupon", ["and", ["couponValid"], ["=", 1, 2]], discount("x"))
    evaluation = run(
        campaign(1, failing),
        session=Session("s", coupon_codes=("C",)),
        coupons={"C": Coupon(3, "C", 1)},
    )
    (reason,) = evaluation.rule_failure_reasons
    assert (reason.coupon_id, reason.coupon_value, reason.condition_index) == (3, "C", 1)
    assert reason.details == "1 = 2 is false"


def test_without_failure_reasons_only_a_codes_verdict_is_explained() -> None:
    rules = [
        rule("total", [">", [".", "Session", "Total"], 100], discount("big")),
        rule("coupon", ["and", ["couponValid"], ["=", 1, 2]], discount("x")),
        rule("fires", ["<", [".", "Session", "Total"], 100], discount("small")),
    ]
    changes: dict[str, Any] = {
        "session": Session("s", cart_items=cart(("a", 1, "80")), coupon_codes=("C",)),
        "coupons": {"C": Coupon(3, "C", 1)},
    }
    full = run(campaign(1, *rules), **changes)
    lean = run(campaign(1, *rules), failure_reasons=False, **changes)
    assert lean.effects == full.effects  # the same answer, rejectCoupon details included
    assert [r.rule_name for r in full.rule_failure_reasons] == ["total", "coupon"]
    assert [r.rule_name for r in lean.rule_failure_reasons] == ["coupon"]
    (rejected,) = [e for e in lean.effects if e.effect_type == "rejectCoupon"]
    assert rejected.props.props()["details"] == "1 = 2 is false"


def test_a_failing_effect_becomes_an_error_and_the_rule_does_not_fire() -> None:
    rules = [
        rule(
            "broken",
            ALWAYS,
            discount("first"),
            discount("second", ["/", 1, [".", "Session", "Attributes", "zero"]]),
        ),
        rule("caught", ALWAYS, ["catch", ["noop"], discount("x", ["/", 1, 0])]),
        rule("fine", ALWAYS, discount("fine")),
    ]
    evaluation = run(campaign(1, *rules))
    assert types(evaluation) == ["error", "setDiscount"]
    message = evaluation.effects[0].props.props()["message"]
    assert message == ("rule 0 ('broken'), effect 1: Session.Attributes.zero is not set")
    (reason,) = evaluation.rule_failure_reasons
    assert (reason.rule_index, reason.effect_index, reason.condition_index) == (0, 1, None)
    assert evaluation.effects[1].props.props()["name"] == "fine"
    assert evaluation.triggered_campaigns == (1,)


def test_failure_effects_are_emitted_when_the_condition_is_false() -> None:
    failing = rule(
        "r",
        ["and", False],
        discount("never"),
        failureEffects=[
            ["showNotification", "Info", "Almost", "Add 20 more"],
            ["customEffect", "nudge", ["kv", ["missing", 20]]],
        ],
    )
    evaluation = run(campaign(1, failing))
    assert types(evaluation) == ["showNotification", "customEffect"]
    assert evaluation.effects[0].props.props() == {
        "notificationType": "Info",
        "title": "Almost",
        "body": "Add 20 more",
    }
    assert evaluation.effects[1].props.props() == {
        "effectId": 0,
        "name": "nudge",
        "payload": {"missing": 20},
    }
    assert evaluation.triggered_campaigns == ()


def program(balance: str = "100", **fields: Any) -> LoyaltyProgram:
    return LoyaltyProgram(7, "Points", LoyaltyBalance(D(balance)), **fields)


def test_every_rule_effect_and_its_props() -> None:
    effects = [
        ["setDiscount", "cart", 5],
        ["setDiscountPerItem", "shoe", 2, 1],
        ["addLoyaltyPoints", 7, 12.345, "earn"],
        ["deductLoyaltyPoints", "7", 10],
        ["createCoupon"],
        ["createReferral", "friend-1"],
        ["showNotification", "Offer", "Hi", "There"],
        ["customEffect", "c", ["kv", ["a", 1]], 4],
        ["addFreeItem", "gift", "Gift", 2],
        ["updateAttribute", "Profile.Attributes.tier", "gold"],
        ["error", "stop"],
        ["noop"],
    ]
    pending, validity = timedelta(days=2), timedelta(days=30)
    evaluation = run(
        campaign(1, rule("all", ALWAYS, *effects)),
        loyalty={"7": program(default_pending=pending, default_validity=validity)},
    )
    props = {e.effect_type: e.props.props() for e in evaluation.effects}
    assert list(props) == [
        "setDiscount",
        "setDiscountPerItem",
        "addLoyaltyPoints",
        "deductLoyaltyPoints",
        "couponCreated",
        "referralCreated",
        "showNotification",
        "customEffect",
        "addFreeItem",
        "updateAttribute",
        "error",
    ]
    assert props["setDiscount"] == {"name": "cart", "value": D("5.00"), "scope": "sessionTotal"}
    assert props["setDiscountPerItem"] == {
        "name": "shoe#1",
        "value": D("2.00"),
        "position": 1,
        "scope": "price",
    }
    added = props["addLoyaltyPoints"]
    assert (added["name"], added["programId"], added["subLedgerId"], added["value"]) == (
        "earn",
        7,
        "",
        D("12.35"),
    )
    assert added["recipientIntegrationId"] == "cust-1"
    assert (added["startDate"], added["expiryDate"]) == (NOW + pending, NOW + pending + validity)
    deducted = props["deductLoyaltyPoints"]
    assert (deducted["ruleTitle"], deducted["name"], deducted["value"]) == ("all", "all", 10)
    assert deducted["transactionUUID"] != added["transactionUUID"]
    assert props["couponCreated"]["profileId"] == "cust-1"
    assert props["customEffect"] == {"effectId": 4, "name": "c", "payload": {"a": 1}}
    assert props["addFreeItem"] == {"sku": "gift", "name": "Gift", "desiredQuantity": 2}
    assert props["updateAttribute"] == {"path": "Profile.Attributes.tier", "value": "gold"}
    assert props["error"] == {"message": "stop"}
    (created,) = evaluation.created_coupons
    assert (created.code, created.profile_id, created.campaign_id) == (
        props["couponCreated"]["value"],
        "cust-1",
        1,
    )
    assert evaluation.created_referrals[0].friend_id == "friend-1"


def test_created_codes_follow_the_pattern_and_are_stable_per_session() -> None:
    settings = CodeSettings(pattern="SPRING-####", valid_characters=("A", "B", "7"))
    rules = [rule("make", ALWAYS, ["createCoupon", "cust-2"], ["createCoupon", "cust-3"])]
    first = run(campaign(1, *rules, coupon_settings=settings))
    again = run(campaign(1, *rules, coupon_settings=settings))
    other = run(campaign(1, *rules, coupon_settings=settings), session=Session("another-session"))
    codes = [c.code for c in first.created_coupons]
    assert all(code.startswith("SPRING-") and set(code[7:]) <= {"A", "B", "7"} for code in codes)
    assert len(set(codes)) == 2
    assert codes == [c.code for c in again.created_coupons]
    assert codes != [c.code for c in other.created_coupons]
    created = first.created_coupons[0]
    retry = fill_pattern(settings.pattern, settings.valid_characters, created.seed, attempt=1)
    assert retry != created.code
    assert retry.startswith("SPRING-")


def test_loyalty_and_codes_need_a_customer() -> None:
    anonymous = Profile("")
    for effect in (
        ["addLoyaltyPoints", 7, 1],
        ["deductLoyaltyPoints", 7, 1],
        ["createCoupon"],
        ["createReferral"],
    ):
        evaluation = run(
            campaign(1, rule("r", ALWAYS, effect)), profile=anonymous, loyalty={"7": program()}
        )
        assert evaluation.effects == ()
        assert "needs a customer" in evaluation.rule_failure_reasons[0].details
    evaluation = run(campaign(1, rule("r", ALWAYS, ["createCoupon", "cust-9"])), profile=anonymous)
    assert evaluation.of_type("couponCreated")[0].props.props()["profileId"] == "cust-9"


def test_unknown_loyalty_program_is_an_error_effect() -> None:
    evaluation = run(campaign(1, rule("r", ALWAYS, ["addLoyaltyPoints", 8, 1])))
    assert types(evaluation) == ["error"]
    assert "no loyalty program 8" in evaluation.effects[0].props.props()["message"]


def test_deductions_cannot_exceed_the_balance_across_rules() -> None:
    rules = [rule(f"burn {n}", ALWAYS, ["deductLoyaltyPoints", 7, 40]) for n in range(3)]
    rules.append(rule("sub", ALWAYS, ["deductLoyaltyPoints", 7, 5, "x", "shoes"]))
    evaluation = run(
        campaign(1, *rules),
        loyalty={"7": program("100", subledgers={"shoes": LoyaltyBalance(D(5))})},
    )
    assert [e.rule_index for e in evaluation.of_type("deductLoyaltyPoints")] == [0, 1, 3]
    (reason,) = evaluation.rule_failure_reasons
    assert reason.details == (
        "effect 0 could not be applied: 40.00 points wanted, 20.00 available in loyalty program 7"
    )


def test_a_rules_effects_apply_together_or_not_at_all() -> None:
    rules = [
        rule("both", ALWAYS, discount("cash", 30), ["deductLoyaltyPoints", 7, 500]),
        rule("after", ALWAYS, discount("rest", 80)),
    ]
    evaluation = run(campaign(1, *rules), loyalty={"7": program("100")})
    (only,) = evaluation.effects
    assert only.props.props() == {"name": "rest", "value": D("80.00"), "scope": "sessionTotal"}


def test_loyalty_points_budget_limits() -> None:
    limits = (Limit(LimitAction.ADD_LOYALTY_POINTS, D(50)),)
    rules = [rule(f"earn {n}", ALWAYS, ["addLoyaltyPoints", 7, 30]) for n in range(2)]
    evaluation = run(campaign(1, *rules, limits=limits), loyalty={"7": program()})
    assert len(evaluation.of_type("addLoyaltyPoints")) == 1
    assert "budget has 20.00 left, 30.00 wanted" in evaluation.rule_failure_reasons[0].details


def test_created_codes_limit() -> None:
    limits = (Limit(LimitAction.CREATE_COUPON, D(1)),)
    rules = [rule(f"make {n}", ALWAYS, ["createCoupon"]) for n in range(2)]
    evaluation = run(campaign(1, *rules, limits=limits))
    assert len(evaluation.created_coupons) == 1
    assert len(evaluation.of_type("couponCreated")) == 1


def test_the_same_session_gives_the_same_full_set_of_effects() -> None:
    campaigns = [campaign(n, rule("r", ALWAYS, discount(f"d{n}", 30))) for n in range(1, 5)]
    first, second = run(*campaigns), run(*campaigns)
    assert first == second
    assert sum((e.props.props()["value"] for e in first.effects), Decimal(0)) == 80


def test_beyond_talon_segments_and_event_history_in_rules() -> None:
    class History:
        def count(self, event_type: str, since: Any) -> int:
            return 3 if event_type == "Order Completed" and since is not None else 0

        def last(self, event_type: str) -> Any:
            return None

    rules = [
        rule(
            "loyal",
            ["and", ["segment", "VIP"], [">=", ["eventCount", "Order Completed", 30], 3]],
            discount("loyal"),
        ),
        rule("new", ["and", ["=", ["eventCount", "Order Completed"], 0]], discount("new")),
    ]
    profile = Profile("cust-1", segments={"seg_9": "VIP"})
    evaluation = run(campaign(1, *rules), profile=profile, history=History())
    assert [e.props.props()["name"] for e in evaluation.effects] == ["loyal", "new"]


def test_code_settings_that_cannot_make_distinct_codes_are_refused() -> None:
    for pattern, characters in (
        ("AB", ("X",)),
        ("NOHASH", ("X",)),
        ("###", ()),
        ("#" * 101, ("X",)),
    ):
        with pytest.raises(Invalid):
            CodeSettings(pattern=pattern, valid_characters=characters)
