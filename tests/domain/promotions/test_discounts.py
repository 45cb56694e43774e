"""Discount arithmetic: rounding, currencies, never below zero, pools, scopes and budgets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from patron.domain.promotions.campaigns import Limit, LimitAction
from patron.domain.promotions.model import Application, CartItem, Coupon, Session, Usage
from patron.domain.promotions.money import round_money
from tests.domain.promotions.support import D, campaign, rule, run

ALWAYS = ["and", True]


def discounts(*effects: list[Any], **changes: Any) -> list[dict[str, Any]]:
    """The props of the discount effects of one campaign whose rules each give one effect."""
    limits = changes.pop("limits", ())
    rules = [rule(f"r{n}", ALWAYS, effect) for n, effect in enumerate(effects)]
    evaluation = run(campaign(1, *rules, limits=limits), **changes)
    return [e.props.props() for e in evaluation.effects]


def values(*effects: list[Any], **changes: Any) -> list[tuple[Decimal, Decimal | None]]:
    return [(p["value"], p.get("desiredValue")) for p in discounts(*effects, **changes)]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.9985", "EUR", "3.00"),
        ("0.005", "EUR", "0.01"),  # half up, not to even
        ("0.015", "EUR", "0.02"),
        ("0.0049", "EUR", "0.00"),
        ("1234.5", "JPY", "1235"),
        ("1.2345", "KWD", "1.235"),
        ("7", "usd", "7.00"),
        ("7.123456", "CLF", "7.1235"),
    ],
)
def test_money_rounds_half_up_to_the_minor_unit(amount: str, currency: str, expected: str) -> None:
    rounded = round_money(Decimal(amount), currency)
    assert str(rounded) == expected


def test_a_percentage_is_exact_until_it_is_rounded_once() -> None:
    session = Session("s", cart_items=(CartItem("a", 3, D("19.99")),))
    (props,) = discounts(
        ["setDiscount", "15%", ["*", [".", "Session", "Total"], 0.15]], session=session
    )
    assert props["value"] == D("9.00")  # 59.97 x 0.15 = 8.9955


def test_discounts_in_a_currency_without_cents() -> None:
    session = Session("s", cart_items=(CartItem("a", 1, D("999")),))
    (props,) = discounts(
        ["setDiscount", "x", ["*", [".", "Session", "Total"], 0.333]],
        session=session,
        application=Application(1, currency="JPY"),
    )
    assert props["value"] == D("333")


def test_the_total_never_goes_below_zero_and_later_discounts_see_what_is_left() -> None:
    assert values(["setDiscount", "a", 50], ["setDiscount", "b", 50], ["setDiscount", "c", 10]) == [
        (D("50.00"), None),
        (D("30.00"), D("50.00")),
        (D("0.00"), D("10.00")),
    ]


def test_rules_read_the_total_before_discounts() -> None:
    tenth = ["setDiscount", "10%", ["*", [".", "Session", "Total"], 0.1]]
    assert values(tenth, tenth) == [(D("8.00"), None), (D("8.00"), None)]


def test_a_zero_discount_is_given_as_zero() -> None:
    assert values(["setDiscount", "nothing", 0]) == [(D("0.00"), None)]


def with_costs() -> Session:
    item = CartItem("a", 2, D("10.00"), additional_costs=D("3.00"))
    return Session("s", cart_items=(item, CartItem("b", 1, D("5.00"))), additional_costs=D("4.00"))


def test_scopes_take_from_their_pools() -> None:
    session = with_costs()  # items 25.00, costs 7.00 (3.00 on line 0, 4.00 on the session)
    assert values(["setDiscount", "i", 100, "cartItems"], session=session) == [
        (D("25.00"), D("100.00"))
    ]
    assert values(["setDiscount", "c", 100, "additionalCosts"], session=session) == [
        (D("7.00"), D("100.00"))
    ]
    assert values(["setDiscount", "all", 100], session=session) == [(D("32.00"), D("100.00"))]
    # a session-total discount takes the items first: the costs are left for the next one
    assert values(
        ["setDiscount", "all", 27], ["setDiscount", "c", 10, "additionalCosts"], session=session
    ) == [(D("27.00"), None), (D("5.00"), D("10.00"))]


def test_per_item_discounts_stay_within_their_line_and_the_cart() -> None:
    session = with_costs()
    assert values(["setDiscountPerItem", "x", 50, 0], session=session) == [(D("20.00"), D("50.00"))]
    assert values(["setDiscountPerItem", "x", 50, 0, "itemTotal"], session=session) == [
        (D("23.00"), D("50.00"))
    ]
    assert values(["setDiscountPerItem", "x", 50, 0, "additionalCosts"], session=session) == [
        (D("3.00"), D("50.00"))
    ]
    # after the cart items were discounted as a whole, a line has nothing left
    assert values(
        ["setDiscount", "all", 25, "cartItems"], ["setDiscountPerItem", "x", 1, 1], session=session
    ) == [(D("25.00"), None), (D("0.00"), D("1.00"))]
    # and per-item discounts use up the cart for later cart discounts
    assert values(
        ["setDiscountPerItem", "x", 15, 0],
        ["setDiscount", "rest", 100, "cartItems"],
        session=session,
    ) == [(D("15.00"), None), (D("10.00"), D("100.00"))]


def test_per_item_discount_names_and_positions() -> None:
    effect = [
        "map",
        [".", "Session", "CartItems"],
        ["Item"],
        ["setDiscountPerItem", "half", ["/", [".", "Item", "Price"], 2], [".", "Item"]],
    ]
    props = discounts(effect)
    assert [(p["name"], p["position"], p["value"]) for p in props] == [
        ("half#0", 0, D("15.00")),
        ("half#1", 1, D("10.00")),
    ]
    (named,) = discounts(["setDiscountPerItem", "own#name", 1, 1])
    assert named["name"] == "own#name"


def test_a_position_outside_the_cart_is_an_error() -> None:
    evaluation = run(campaign(1, rule("r", ALWAYS, ["setDiscountPerItem", "x", 1, 5])))
    assert [e.effect_type for e in evaluation.effects] == ["error"]
    assert "no cart item at position 5" in evaluation.effects[0].props.props()["message"]


def test_a_negative_discount_is_an_error() -> None:
    evaluation = run(campaign(1, rule("r", ALWAYS, ["setDiscount", "x", ["-", 0, 5]])))
    assert [e.effect_type for e in evaluation.effects] == ["error"]


BUDGET = (Limit(LimitAction.SET_DISCOUNT, D(30)),)


def test_a_campaign_discount_budget_fails_the_rule_that_exceeds_it() -> None:
    props = discounts(
        ["setDiscount", "a", 20], ["setDiscount", "b", 20], ["setDiscount", "c", 10], limits=BUDGET
    )
    assert [(p["name"], p["value"]) for p in props] == [("a", D("20.00")), ("c", D("10.00"))]


def test_partial_discounts_cut_to_the_budget_and_fail_when_it_is_empty() -> None:
    partial = Application(1, currency="EUR", partial_discounts=True)
    props = discounts(
        ["setDiscount", "a", 20],
        ["setDiscount", "b", 20],
        ["setDiscount", "c", 10],
        limits=BUDGET,
        application=partial,
    )
    assert [(p["name"], p["value"], p.get("desiredValue")) for p in props] == [
        ("a", D("20.00"), None),
        ("b", D("10.00"), D("20.00")),
    ]


def test_budgets_count_what_was_used_before_this_session() -> None:
    usage = {1: Usage(campaign={"setDiscount": D(25)})}
    assert values(["setDiscount", "a", 5], ["setDiscount", "b", 1], limits=BUDGET, usage=usage) == [
        (D("5.00"), None)
    ]
    per_profile = (Limit(LimitAction.SET_DISCOUNT, D(10), ("Profile",)),)
    usage = {1: Usage(profile={"setDiscount": D(8)})}
    evaluation = run(
        campaign(1, rule("r", ALWAYS, ["setDiscount", "a", 5]), limits=per_profile), usage=usage
    )
    assert evaluation.effects == ()
    assert evaluation.rule_failure_reasons[0].details == (
        "effect 0 could not be applied: this customer's setDiscount budget has 2 left, 5.00 wanted"
    )


def test_a_coupons_discount_limit_bounds_its_rules_discounts() -> None:
    coupon = Coupon(3, "C", 1, discount_limit=D(10), discount_counter=D(4))
    rules = [
        rule("coupon", ["and", ["couponValid"]], ["setDiscount", "c", 5]),
        rule("coupon too", ["and", ["couponValid"]], ["setDiscount", "c2", 5]),
        rule("plain", ALWAYS, ["setDiscount", "p", 5]),  # not the coupon's: not bounded by it
    ]
    evaluation = run(
        campaign(1, *rules),
        session=Session("s", coupon_codes=("C",), cart_items=(CartItem("a", 1, D(50)),)),
        coupons={"C": coupon},
    )
    names = [e.props.props().get("name") for e in evaluation.effects]
    assert names == [None, "c", "p"]  # acceptCoupon, then c; c2 would pass the limit
    assert evaluation.rule_failure_reasons[0].rule_name == "coupon too"
