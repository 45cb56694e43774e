"""A ruleset compiles and prints back exactly as it was written (property-based)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from patron.domain.promotions.talang import EvaluationError, compile_ruleset
from tests.domain.promotions.support import make_scope

NAMES = st.from_regex(r"\A[a-z][a-zA-Z0-9_]{0,8}\Z")
TEXT = st.text(max_size=12)
NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from(["12.5", "0", "-3"]),  # numeric strings stand for numbers
)
TIMES = st.sampled_from(["2024-01-01T00:00:00Z", "2024-06-30", "2025-02-03T04:05:06+02:00"])


def item_block(body: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """A block's parts in one of Talang's three spellings."""
    return body.flatmap(lambda b: st.sampled_from([[["Item"], b], ["Item", b], [[["Item"], b]]]))


ITEMS = st.just([".", "Session", "CartItems"])
ITEM_NUMBER = st.sampled_from([[".", "Item", "Price"], [".", "Item", "Quantity"]])
ITEM_TEXT = st.sampled_from(
    [
        [".", "Item", "Sku"],
        [".", "Item", "Category"],
        [".", "Item", "Attributes", "color"],
        [".", "Item", "Attributes.c"],
    ]
)


def numbers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).flatmap(
            lambda args: st.sampled_from(["+", "-", "*"]).map(lambda op: [op, *args])
        ),
        children.map(lambda n: ["round", n, 2]),
        children.map(lambda n: ["catch", 0, ["/", 1, n]]),
        st.tuples(ITEMS, item_block(ITEM_NUMBER)).map(lambda t: ["sum", t[0], *t[1]]),
        st.tuples(TEXT, st.integers(0, 365)).map(lambda t: ["eventCount", t[0], t[1]]),
    )


NUMBER = st.recursive(
    st.one_of(
        NUMBERS,
        st.sampled_from(
            [
                [".", "Session", "Total"],
                [".", "Profile", "TotalSales"],
                ["count", [".", "Session", "CartItems"]],
            ]
        ),
    ),
    numbers,
    max_leaves=6,
)
STRING = st.one_of(
    TEXT,
    st.sampled_from(
        [
            [".", "Session", "State"],
            [".", "Profile", "Attributes", "tier"],
            [".", "Profile", "Attributes.tier"],
        ]
    ),
    NUMBER.map(lambda n: ["toString", n]),
    st.lists(TEXT, min_size=2, max_size=3).map(lambda parts: ["concat", *parts]),
)
TIME = st.one_of(
    TIMES,
    st.just(["now"]),
    st.tuples(TIMES, st.integers(0, 40)).map(lambda t: ["addDuration", t[0], t[1], "days"]),
)


def booleans(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda args: ["and", *args]),
        st.lists(children, min_size=1, max_size=3).map(lambda args: ["or", *args]),
        children.map(lambda b: ["not", b]),
        st.tuples(children, children, children).map(lambda t: ["if", *t]),
        st.tuples(children, children).map(lambda t: ["catch", *t]),
    )


COMPARISON = st.one_of(
    st.tuples(st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), NUMBER, NUMBER).map(list),
    st.tuples(STRING, STRING).map(lambda t: ["=", *t]),
    st.tuples(st.sampled_from(["contains", "startsWith", "endsWith"]), STRING, STRING).map(list),
    st.tuples(TIME, TIME).map(lambda t: ["after", *t]),
    st.tuples(ITEMS, item_block(ITEM_TEXT.map(lambda s: ["=", s, "shoes"]))).map(
        lambda t: ["exists", t[0], *t[1]]
    ),
    TEXT.map(lambda name: ["segment", name]),
)
BOOLEAN = st.recursive(
    st.one_of(st.booleans(), st.sampled_from([["couponValid"], ["referralValid"]]), COMPARISON),
    booleans,
    max_leaves=6,
)
EFFECT = st.one_of(
    st.tuples(TEXT, NUMBER).map(lambda t: ["setDiscount", *t]),
    st.tuples(TEXT, NUMBER, st.sampled_from(["sessionTotal", "cartItems"])).map(
        lambda t: ["setDiscount", *t]
    ),
    st.tuples(ITEMS, TEXT).flatmap(
        lambda t: item_block(
            st.just(["setDiscountPerItem", t[1], ["*", [".", "Item", "Price"], 0.1], [".", "Item"]])
        ).map(lambda block: ["map", t[0], *block])
    ),
    st.tuples(st.integers(1, 99), NUMBER).map(lambda t: ["addLoyaltyPoints", *t]),
    st.tuples(TEXT, TEXT).map(lambda t: ["showNotification", "Info", *t]),
    st.tuples(TEXT, NAMES, NUMBER).map(lambda t: ["customEffect", t[0], ["kv", [t[1], t[2]]]]),
    st.just(["noop"]),
)
EFFECTS = st.lists(st.one_of(EFFECT, EFFECT.map(lambda e: ["catch", ["noop"], e])), max_size=3)
BINDINGS = st.lists(
    st.tuples(NAMES, NUMBER).map(lambda t: {"name": t[0], "expression": t[1], "type": "x"}),
    max_size=2,
    unique_by=lambda b: b["name"],
)


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "title": draw(st.text(min_size=1, max_size=20)),
        "condition": draw(BOOLEAN.filter(lambda b: isinstance(b, list))),
        "effects": draw(EFFECTS),
    }
    if draw(st.booleans()):
        rule["description"] = draw(TEXT)
    if draw(st.booleans()):
        rule["bindings"] = draw(BINDINGS)
    if draw(st.booleans()):
        rule["failureEffects"] = [["showNotification", "Error", "Sorry", draw(TEXT)]]
    return rule


RULESETS = st.fixed_dictionaries(
    {"rules": st.lists(rules(), max_size=4), "bindings": BINDINGS},
    optional={"rbVersion": st.just("v2"), "activate": st.booleans()},
)


@settings(max_examples=100, deadline=None)
@given(RULESETS)
def test_a_ruleset_prints_back_as_written(document: dict[str, Any]) -> None:
    compiled = compile_ruleset(document)
    assert compiled.to_json() == document
    assert compile_ruleset(compiled.to_json()).to_json() == document


@settings(max_examples=50, deadline=None)
@given(RULESETS)
def test_every_compiled_condition_runs_to_a_boolean_or_a_clean_failure(
    document: dict[str, Any],
) -> None:
    scope = make_scope(session_fields={"attributes": {}})
    for rule in compile_ruleset(document).rules:
        try:
            outcome = rule.condition.run(scope)
        except EvaluationError:
            continue
        assert isinstance(outcome, bool)
