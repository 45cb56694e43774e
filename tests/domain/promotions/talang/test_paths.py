"""Every path ``.`` can read: each root, each field, attributes, blocks and bindings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.model import (
    Application,
    CartItem,
    Coupon,
    Event,
    LoyaltyBalance,
    LoyaltyProgram,
    Profile,
    Referral,
    Session,
)
from patron.domain.promotions.talang import REGISTRY, EvaluationError, compile_ruleset
from patron.domain.promotions.talang.nodes import Scope
from patron.domain.promotions.talang.registry import Registry, strict
from patron.domain.promotions.talang.values import DECIMAL
from tests.domain.promotions.support import D, context, value

EXPIRY = datetime(2025, 12, 31, tzinfo=UTC)


def full_scope() -> Scope:
    session = Session(
        "sess-9",
        cart_items=(
            CartItem(
                "sku-1",
                2,
                D("10.00"),
                name="Tee",
                category="shirts",
                attributes={"color": "red"},
                additional_costs=D("1.50"),
            ),
        ),
        additional_costs=D("4.90"),
        attributes={"channel": "web"},
        state="open",
        coupon_codes=("C1",),
        referral_code="R1",
    )
    profile = Profile(
        "cust-9",
        attributes={"tier": "gold"},
        audiences=(3, 4),
        closed_sessions=7,
        total_sales=D("912.40"),
        segments={"seg_1": "VIP"},
    )
    program = LoyaltyProgram(
        7,
        "Points",
        LoyaltyBalance(D(120), D(30), D(5), D(40)),
        subledgers={"shoes": LoyaltyBalance(D(12))},
    )
    ctx = context(
        session=session,
        profile=profile,
        event=Event("Order Completed", {"amount": 3}),
        loyalty={"7": program},
        application=Application(4, "Shop", "JPY", "Asia/Tokyo", {"region": "north"}),
    )
    coupon = Coupon(
        11,
        "C1",
        9,
        usage_limit=5,
        usage_counter=2,
        discount_limit=D(50),
        discount_counter=D(10),
        recipient_integration_id="cust-9",
        attributes={"batch": "b1"},
        start_date=EXPIRY,
        expiry_date=EXPIRY,
    )
    referral = Referral(
        12,
        "R1",
        9,
        "adv-1",
        "cust-9",
        usage_limit=3,
        usage_counter=1,
        attributes={"source": "mail"},
    )
    campaign = Campaign(9, "Nine", None, attributes={"budget": "high"}, tags=("spring",))
    return Scope(ctx, campaign, EXPIRY, coupon=coupon, referral=referral)


PATHS: list[tuple[list[Any], Any]] = [
    (["Session", "IntegrationId"], "sess-9"),
    (["Session", "Total"], D("26.40")),
    (["Session", "CartItemTotal"], D("20.00")),
    (["Session", "AdditionalCostTotal"], D("6.40")),
    (["Session", "Attributes", "channel"], "web"),
    (["Session", "Attributes.channel"], "web"),
    (["Session", "State"], "open"),
    (["Session", "CouponCodes"], ("C1",)),
    (["Session", "ReferralCode"], "R1"),
    (["Profile", "IntegrationId"], "cust-9"),
    (["Profile", "Attributes", "tier"], "gold"),
    (["Profile", "Audiences"], (3, 4)),
    (["Profile", "ClosedSessions"], 7),
    (["Profile", "TotalSales"], D("912.40")),
    (["Profile", "Segments"], ("seg_1",)),
    (["Profile", "Anonymous"], False),
    (["Event", "Type"], "Order Completed"),
    (["Event", "Attributes", "amount"], 3),
    (["Coupon", "Id"], 11),
    (["Coupon", "Code"], "C1"),
    (["Coupon", "Attributes", "batch"], "b1"),
    (["Coupon", "UsageLimit"], 5),
    (["Coupon", "UsageCounter"], 2),
    (["Coupon", "DiscountLimit"], 50),
    (["Coupon", "DiscountCounter"], 10),
    (["Coupon", "RecipientIntegrationId"], "cust-9"),
    (["Coupon", "StartDate"], EXPIRY),
    (["Coupon", "ExpiryDate"], EXPIRY),
    (["Referral", "Id"], 12),
    (["Referral", "Code"], "R1"),
    (["Referral", "Attributes", "source"], "mail"),
    (["Referral", "AdvocateIntegrationId"], "adv-1"),
    (["Referral", "FriendIntegrationId"], "cust-9"),
    (["Referral", "UsageLimit"], 3),
    (["Referral", "UsageCounter"], 1),
    (["Loyalty", "7", "CurrentBalance"], 120),
    (["Loyalty", 7, "PendingBalance"], 30),
    (["Loyalty", "7", "ExpiredBalance"], 5),
    (["Loyalty", "7", "SpentBalance"], 40),
    (["Loyalty", "7", "TentativeCurrentBalance"], 120),
    (["Loyalty", "7", "Name"], "Points"),
    (["Loyalty", "7", "Subledgers", "shoes", "CurrentBalance"], 12),
    (["Application", "Id"], 4),
    (["Application", "Name"], "Shop"),
    (["Application", "Currency"], "JPY"),
    (["Application", "Timezone"], "Asia/Tokyo"),
    (["Application", "Attributes", "region"], "north"),
    (["Campaign", "Id"], 9),
    (["Campaign", "Name"], "Nine"),
    (["Campaign", "Attributes", "budget"], "high"),
    (["Campaign", "Tags"], ("spring",)),
]


@pytest.mark.parametrize(("path", "expected"), PATHS, ids=lambda v: str(v)[:40])
def test_path_reads(path: list[Any], expected: Any) -> None:
    assert value([".", *path], full_scope()) == expected


ITEM_FIELDS = [
    ("Name", "Tee"),
    ("Sku", "sku-1"),
    ("Quantity", 2),
    ("Price", D("10.00")),
    ("Category", "shirts"),
    ("Attributes.color", "red"),
    ("Position", 0),
    ("AdditionalCosts", D("1.50")),
]


@pytest.mark.parametrize(("field", "expected"), ITEM_FIELDS)
def test_item_fields_inside_a_block(field: str, expected: Any) -> None:
    expression = ["map", [".", "Session", "CartItems"], ["Item"], [".", "Item", field]]
    assert value(expression, full_scope()) == (expected,)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (["Event", "Type"], "this evaluation has no event"),
        (["Coupon", "Code"], "no valid coupon"),
        (["Referral", "Code"], "no valid referral"),
        (["Loyalty", "99", "CurrentBalance"], "Loyalty.99.CurrentBalance is not set"),
        (["Profile", "Attributes", "missing"], "Profile.Attributes.missing is not set"),
        (["Session", "Attributes", "a", "b"], "is not set"),
    ],
)
def test_a_missing_value_fails_the_expression(path: list[Any], message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        value([".", *path])


def test_coupon_dates_not_set_fail() -> None:
    scope = full_scope()
    scope.coupon = Coupon(1, "X", 9)
    with pytest.raises(EvaluationError, match="expiry date is not set"):
        value([".", "Coupon", "ExpiryDate"], scope)


def test_nested_attribute_objects_are_read_by_key() -> None:
    scope = full_scope()
    scope.context = context(session_fields={"attributes": {"address": {"city": "Rome"}}})
    assert value([".", "Session", "Attributes", "address", "city"], scope) == "Rome"


def test_nested_blocks_see_their_own_and_outer_parameters() -> None:
    expression = [
        "map",
        ["list", 1, 2],
        ["outer"],
        [
            "sum",
            [".", "Session", "CartItems"],
            ["Item"],
            ["*", [".", "outer"], [".", "Item", "Quantity"]],
        ],
    ]
    assert value(expression) == (Decimal(3), Decimal(6))


def test_items_of_lists_built_at_run_time_are_read_by_their_type() -> None:
    expression = [
        "map",
        ["list", ["head", [".", "Session", "CartItems"]]],
        ["x"],
        [".", "x", "Sku"],
    ]
    assert value(expression) == ("sock",)


def test_a_binding_read_inside_a_block_keeps_the_blocks_item() -> None:
    shoes = [
        "filter",
        [".", "Session", "CartItems"],
        ["Item"],
        ["=", [".", "Item", "Category"], "shoes"],
    ]
    ruleset = compile_ruleset(
        {
            "bindings": [{"name": "shoes", "expression": shoes}],
            "rules": [
                {
                    "title": "r",
                    "condition": [
                        "exists",
                        [".", "Session", "CartItems"],
                        ["Item"],
                        [
                            "and",
                            [">", ["count", [".", "shoes"]], 0],
                            ["=", [".", "Item", "Sku"], "sock"],
                        ],
                    ],
                    "effects": [],
                }
            ],
        }
    )
    scope = Scope(context(), Campaign(1, "c", ruleset), EXPIRY)
    # the first item is the sock; reading "shoes" runs a filter over the cart inside the block
    assert ruleset.rules[0].condition.run(scope) is True


def test_bindings_are_read_by_name_and_evaluated_once_per_scope() -> None:
    calls: list[int] = []

    def tick() -> Decimal:
        calls.append(1)
        return Decimal(4)

    registry = Registry([*REGISTRY.functions().values(), strict("tick", (), DECIMAL, tick, "")])
    ruleset = compile_ruleset(
        {
            "bindings": [
                {"name": "orders", "expression": ["tick"]},
                {"name": "many", "expression": [">", [".", "orders"], 3], "type": "x"},
            ],
            "rules": [
                {
                    "title": "r",
                    "bindings": [{"name": "local", "expression": ["+", [".", "orders"], 1]}],
                    "condition": ["and", [".", "many"], ["=", [".", "local"], 5]],
                    "effects": [],
                }
            ],
        },
        registry=registry,
    )
    condition = ruleset.rules[0].condition
    scope = Scope(context(), Campaign(1, "c", ruleset), EXPIRY)
    assert condition.run(scope) is True
    assert condition.run(scope) is True
    assert len(calls) == 1  # "orders" is read three times, evaluated once
    assert condition.run(Scope(context(), Campaign(1, "c", ruleset), EXPIRY)) is True
    assert len(calls) == 2  # a new scope (the next campaign or session) evaluates again
