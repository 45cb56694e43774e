"""Every function of the table, evaluated: results, edge cases and run-time failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from patron.domain.promotions.model import Coupon, Profile, Referral
from patron.domain.promotions.talang import REGISTRY, EvaluationError, compile_expression, intents
from tests.domain.promotions.support import NOW, D, make_scope, value

ITEMS = [".", "Session", "CartItems"]
SHOES = ["filter", ITEMS, ["Item"], ["=", [".", "Item", "Category"], "shoes"]]
T1 = "2006-01-02T15:04:05Z"
T2 = "2007-01-02T15:04:05Z"

# (expression, expected value)
CASES: list[tuple[Any, Any]] = [
    # logic
    (["and", True, ["<", 1, 2]], True),
    (["and", True, False], False),
    (["and", True], True),
    (["or", False, False, True], True),
    (["or", False, False], False),
    (["not", False], True),
    (["not", ["not", False]], False),
    (["if", [">", 2, 1], "yes", "no"], "yes"),
    (["if", [">", 1, 2], "yes", "no"], "no"),
    (["if", True, 1, ["/", 1, 0]], 1),  # the branch not taken is not evaluated
    (["catch", 22, [".", "Profile", "Attributes", "age"]], 22),
    (["catch", 22, 2], 2),
    (["catch", 0, ["/", 1, 0]], 0),
    (["noop"], intents.NOOP),
    # comparison
    (["=", 1, 1], True),
    (["=", "Hello World", "Hello World"], True),
    (["=", True, True], True),
    (["=", T1, T1], True),
    (["=", 1, "1"], True),  # Talang: a number equals the string that reads as it
    (["=", "Hello", "Hello", "Bye"], False),
    (["=", 1, True], False),
    (["=", ["list", 1, 2], ["list", 1, 2]], True),
    (["!=", 1, 1], False),
    (["!=", "Hello", "Bye"], True),
    (["!=", "Hello", "Hello", "Bye"], False),
    (["<", 0, 1], True),
    (["<", 1, 1], False),
    (["<", T1, T2], True),
    (["<", 1, 2, 3], True),
    (["<=", 1, 1], True),
    (["<=", 2, 1], False),
    ([">", 2, 1], True),
    ([">", 1, 1], False),
    ([">", T2, T1], True),
    ([">=", 1, 1], True),
    ([">=", 0, 1], False),
    ([">", "10", 9], True),  # a numeric string literal is a number
    (["between", 1, 0, 3], True),
    (["between", 1, 2, 0, 3], True),
    (["between", 0, 0, 2], False),
    (["between", 2, 0, 2], False),
    (["between", 1, 4, 0, 3], False),
    (["between", "2007-01-02T00:00:00Z", "2006-01-02T00:00:00Z", "2009-01-02T00:00:00Z"], True),
    # arithmetic (decimal: no binary float error)
    (["+", 1, 2, 3], 6),
    (["+", 0.1, 0.2], D("0.3")),
    (["+", "Hello", " ", "World"], "Hello World"),
    (["-", 1, 2, 3], -4),
    (["*", 19.99, 3], D("59.97")),
    (["*", [".", "Session", "Total"], 0.1], D("8.000")),
    (["/", 1, 2], D("0.5")),
    (["/", 10, 4, 5], D("0.5")),
    (["mod", 3, 8, 2], 1),
    (["ceil", 2.4], 3),
    (["ceil", -2.7], -2),
    (["floor", 2.9], 2),
    (["floor", -2.7], -3),
    (["round", 2.5], 3),
    (["round", 2.345, 2], D("2.35")),
    (["round", -2.5], -3),
    # strings
    (["concat", "Hello", " ", "World"], "Hello World"),
    (["contains", "Hello", "Hello World"], True),
    (["contains", "Hello", "World"], False),
    (["contains", "World", "Hello World", "Hello Universe"], False),
    (["notContains", "Hello", "World"], True),
    (["notContains", "World", "Hello World", "Hello Universe"], False),
    (["startsWith", "Hello", "Hello World", "Hello Universe"], True),
    (["startsWith", "Hello", "Hello World", "Hell Universe"], False),
    (["endsWith", "World", "Hello World", "By World"], True),
    (["endsWith", "World", "Hello World", "Hello Universe"], False),
    (["~", "^[a-zA-Z ]*$", "Hello World"], True),
    (["~", "^[a-zA-Z ]*$", "Hello W0rld"], False),
    (["~", "o W", "Hello World", "Hello Universe"], False),
    (["toString", ["+", 1, 2]], "3"),
    (["toString", True], "true"),
    (["toString", 2.50], "2.5"),
    (["firstName", "Mr Foo Bar"], "Mr Foo"),
    (["firstName", "Alex"], "Alex"),
    (["lastName", "Alex Unger"], "Unger"),
    (["split", "1,2,3,a", ","], ("1", "2", "3", "a")),
    (["join", ["list", "hello", "world"], "-"], "hello-world"),
    # lists
    (["list", 1, "a", True], (1, "a", True)),
    (["count", ["list", 1, 2, 3, 4]], 4),
    (["count", ITEMS], 2),
    (["sum", ["list", 2, 2]], 4),
    (["sum", ITEMS, ["Item"], ["*", [".", "Item", "Price"], [".", "Item", "Quantity"]]], 80),
    (["sum", ITEMS, "Item", [".", "Item", "Quantity"]], 3),
    (["sum", ITEMS, [["Item"], [".", "Item", "Quantity"]]], 3),
    (["exists", ["list", "hello", "world"], ["x"], ["=", [".", "x"], "hello"]], True),
    (["exists", ["list", "hello", "world"], ["x"], ["=", [".", "x"], "hey!!"]], False),
    (["every", ITEMS, ["Item"], [">", [".", "Item", "Price"], 10]], True),
    (["every", ITEMS, ["Item"], [">", [".", "Item", "Price"], 25]], False),
    (["count", SHOES], 1),
    (["filter", ["list", 1, 4, 7, 12, 24, 48], ["x"], [">", [".", "x"], 10]], (12, 24, 48)),
    (["map", ITEMS, ["Item"], [".", "Item", "Sku"]], ("sock", "shoe")),
    (
        ["map", ["list", "World", "Universe"], "x", ["+", "Hello ", [".", "x"]]],
        ("Hello World", "Hello Universe"),
    ),
    (["isEmpty", ["list"]], True),
    (["isEmpty", ITEMS], False),
    (["head", ["list", "Hello World", "Hello Universe"]], "Hello World"),
    (["tail", ["list", 1, 2, 3]], (2, 3)),
    (["drop", ["list", 1, 2, 3]], (1, 2)),
    (["item", ["list", 1, True, "Hello"], 1], True),
    (["reverse", ["list", 1, 2, 3]], (3, 2, 1)),
    (["min", ["list", 3, 4, -1, 3]], -1),
    (["max", ["list", 4, 2, 9, 422]], 422),
    (["append", ["list", 1, 2], 3, 4], (1, 2, 3, 4)),
    (["push", ["list", "a"], "b"], ("a", "b")),
    (["sort", ["list", "World", "Universe"]], ("Universe", "World")),
    (["sort", ["list", 3, 1, 2], True], (3, 2, 1)),
    # times (calendar parts in the application's timezone, Europe/Berlin)
    (["after", T2, T1], True),
    (["after", T1, T2], False),
    (["before", T1, T2], True),
    (
        ["betweenTimes", "2006-01-02T19:04:05Z", "2006-01-01T15:04:05Z", "2006-01-03T19:04:05Z"],
        True,
    ),
    (["betweenTimes", T2, "2006-01-01T15:04:05Z", "2006-01-03T19:04:05Z"], False),
    (
        ["addDuration", "2018-03-18T00:04:05Z", 3, "minutes"],
        datetime(2018, 3, 18, 0, 7, 5, tzinfo=UTC),
    ),
    (
        ["addDuration", "2018-03-18T00:04:05Z", 18, "days"],
        datetime(2018, 4, 5, 0, 4, 5, tzinfo=UTC),
    ),
    (
        ["subDuration", "2018-03-18T00:04:05Z", 17, "hours"],
        datetime(2018, 3, 17, 7, 4, 5, tzinfo=UTC),
    ),
    (["days", "2025-03-11T15:09:26Z"], 3),
    (["daysBetween", "2006-01-02T00:00:00Z", "2006-01-02T06:00:00Z"], D("0.25")),
    (["date", "2018-01-02T23:30:00Z"], "2018-01-03"),  # already the 3rd in Berlin
    (["hour", "2018-01-14T19:04:05Z"], "20"),
    (["minute", "2018-01-14T19:04:05Z"], "04"),
    (["month", "2018-01-02T19:04:05Z"], "1"),
    (["monthDay", "2018-01-14T19:04:05Z"], "14"),
    (["weekday", "2018-01-14T19:04:05Z"], "0"),  # a Sunday
    (["year", "2018-01-02T19:04:05Z"], "2018"),
    (["formatTime", "2018-01-02T19:04:05+00:00"], "2018-01-02T19:04:05Z"),
    (["parseTime", "2018-01-02T19:04:05Z"], datetime(2018, 1, 2, 19, 4, 5, tzinfo=UTC)),
    (["now"], NOW),
    (["<", ["subDuration", ["now"], 1, "days"], ["now"]], True),
    # kv
    (["kv", ["Key1", "Hello"], ["Key2", ["+", 1, 2]]], {"Key1": "Hello", "Key2": 3}),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=lambda v: str(v)[:60])
def test_function_result(expression: Any, expected: Any) -> None:
    assert value(expression) == expected


def test_head_of_a_filtered_cart_is_the_cart_item() -> None:
    assert value(["head", SHOES]).sku == "shoe"
    assert value(["item", ITEMS, 0]).sku == "sock"


# (expression, what the failure says)
FAILURES: list[tuple[Any, str]] = [
    (["/", 1, 0], "DivisionByZero"),
    (["mod", 1, 0], "arithmetic failed"),
    (["+", "Order ", 5], "expected a string"),
    (["head", ["list"]], "the head of an empty list"),
    (["min", ["list"]], "the minimum of an empty list"),
    (["item", ["list", 1], 3], "no item 3"),
    (["round", 1.5, 0.5], "cannot round"),
    (["and", [".", "Session", "Attributes", "flag"]], "Session.Attributes.flag is not set"),
    (["<", [".", "Session", "Attributes", "when"], 1], "not set"),
    (["lastEventTime", "Never"], "no 'Never' event"),
    (["parseTime", "yesterday"], "not an RFC 3339 time"),
    (["eventCount", "Order Completed", ["-", 0, 1]], "a window is 0 to"),
]


@pytest.mark.parametrize(("expression", "message"), FAILURES, ids=lambda v: str(v)[:50])
def test_function_failure(expression: Any, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        value(expression)


def test_attribute_values_become_decimals_and_compare() -> None:
    scope = make_scope(session_fields={"attributes": {"n": 2.5, "flag": True, "tags": [1, "a"]}})
    assert value(["*", [".", "Session", "Attributes", "n"], 2], scope) == 5
    assert value(["and", [".", "Session", "Attributes", "flag"]], scope) is True
    assert value([".", "Session", "Attributes.tags"], scope) == (Decimal(1), "a")


def test_a_non_boolean_in_a_condition_fails() -> None:
    scope = make_scope(session_fields={"attributes": {"flag": "yes"}})
    with pytest.raises(EvaluationError, match="expected a boolean, got 'yes'"):
        value(["and", [".", "Session", "Attributes", "flag"]], scope)


def test_coupon_valid_and_referral_valid_follow_the_scope() -> None:
    assert value(["couponValid"]) is False
    assert value(["referralValid"]) is False
    scope = make_scope(coupon=Coupon(1, "C", 9), referral=Referral(2, "R", 9, "adv"))
    assert value(["couponValid"], scope) is True
    assert value(["referralValid"], scope) is True


class History:
    def __init__(self, events: list[tuple[str, datetime]]) -> None:
        self.events = events
        self.questions = 0

    def count(self, event_type: str, since: datetime | None) -> int:
        self.questions += 1
        return sum(1 for t, at in self.events if t == event_type and (since is None or at >= since))

    def last(self, event_type: str) -> datetime | None:
        self.questions += 1
        return max((at for t, at in self.events if t == event_type), default=None)


def test_event_history_functions_ask_the_port_once_per_question() -> None:
    history = History([("Order Completed", NOW - timedelta(days=d)) for d in (1, 5, 29, 31, 200)])
    scope = make_scope(history=history)
    assert value(["eventCount", "Order Completed", 30], scope) == 3
    assert value(["eventCount", "Order Completed"], scope) == 5
    assert value(["eventCount", "Cart Viewed", 30], scope) == 0
    assert value(["lastEventTime", "Order Completed"], scope) == NOW - timedelta(days=1)
    asked = history.questions
    assert value(["eventCount", "Order Completed", 30], scope) == 3
    assert history.questions == asked  # memoized in the scope


def test_segment_matches_by_id_or_name() -> None:
    profile = Profile("cust-1", segments={"seg_1": "VIP", "seg_2": "Newsletter"})
    scope = make_scope(profile=profile)
    assert value(["segment", "seg_1"], scope) is True
    assert value(["segment", "Newsletter"], scope) is True
    assert value(["segment", "seg_3"], scope) is False
    assert value(["segment", "VIP"]) is False  # the default customer is in none


EFFECT_CASES: list[tuple[Any, Any]] = [
    (["setDiscount", "10% off", 5], intents.Discount("10% off", D(5))),
    (["setDiscount", "x", 5, "cartItems"], intents.Discount("x", D(5), "cartItems")),
    (["setDiscountPerItem", "half", 5, 1], intents.ItemDiscount("half", D(5), 1)),
    (
        ["setDiscountPerItem", "half", 5, ["head", SHOES], "itemTotal"],
        intents.ItemDiscount("half", D(5), 1, "itemTotal"),
    ),
    (["addLoyaltyPoints", 7, 10], intents.AddPoints("7", D(10))),
    (
        ["addLoyaltyPoints", "7", 10, "welcome", "shoes"],
        intents.AddPoints("7", D(10), "welcome", "shoes"),
    ),
    (["deductLoyaltyPoints", 7, 10, "burn"], intents.DeductPoints("7", D(10), "burn")),
    (["createCoupon"], intents.CreateCoupon()),
    (
        ["createCoupon", "cust-2", "2025-12-31T00:00:00Z"],
        intents.CreateCoupon("cust-2", datetime(2025, 12, 31, tzinfo=UTC)),
    ),
    (["createReferral"], intents.CreateReferral()),
    (["createReferral", "friend-1"], intents.CreateReferral("friend-1")),
    (["showNotification", "Info", "Hi", "Welcome"], intents.Notification("Info", "Hi", "Welcome")),
    (
        ["customEffect", "banner", ["kv", ["color", "red"]]],
        intents.Custom("banner", {"color": "red"}),
    ),
    (["customEffect", "banner", ["kv", ["n", 1]], 12], intents.Custom("banner", {"n": 1}, 12)),
    (["addFreeItem", "gift", "Gift"], intents.FreeItem("gift", "Gift")),
    (["addFreeItem", "gift", "Gift", 2], intents.FreeItem("gift", "Gift", 2)),
    (
        ["updateAttribute", "Profile.Attributes.tier", "gold"],
        intents.UpdateAttribute("Profile.Attributes.tier", "gold"),
    ),
    (["error", "oops"], intents.RuleError("oops")),
]


@pytest.mark.parametrize(("expression", "expected"), EFFECT_CASES, ids=lambda v: str(v)[:60])
def test_effect_function_returns_its_intent(expression: Any, expected: Any) -> None:
    assert value(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (["setDiscount", "x", -1], "cannot be negative"),
        (["setDiscountPerItem", "x", 1, 0.5], "whole number"),
        (["customEffect", "x", [".", "Session", "Attributes", "p"]], "not set"),
        (["setDiscount", "x", 1, [".", "Session", "State"]], "'open' is not a scope"),
    ],
)
def test_effect_function_failure(expression: Any, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        value(expression)


def test_a_call_of_literals_is_computed_once_when_compiled() -> None:
    scope = make_scope()
    discount = compile_expression(["setDiscount", "10 off", 10])
    assert discount.run(scope) is discount.run(scope)  # one intent, built when compiled
    total = compile_expression(["+", 1, 2])
    assert total.run(scope) is total.run(scope) == D("3")
    # A call that fails is left to fail each time it runs, as without the folding.
    failing = compile_expression(["/", 1, 0])
    for _ in range(2):
        with pytest.raises(EvaluationError, match="DivisionByZero"):
            failing.run(scope)


def test_every_function_of_the_table_is_tested_here() -> None:
    def names(expression: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(expression, list) and expression:
            if isinstance(expression[0], str):
                found.add(expression[0])
            for part in expression:
                found |= names(part)
        return found

    tested: set[str] = set()
    for expression, _ in [*CASES, *FAILURES, *EFFECT_CASES]:
        tested |= names(expression)
    tested |= {"couponValid", "referralValid", "segment", "eventCount", "lastEventTime", "head"}
    assert set(REGISTRY.names()) - tested == set()
