"""What the compiler refuses, and that it says exactly where (rule, title, JSON pointer)."""

from __future__ import annotations

from typing import Any

import pytest

from patron.domain.errors import Invalid
from patron.domain.promotions.talang import RulesetInvalid, compile_expression, compile_ruleset
from patron.domain.promotions.talang.compiler import MAX_BLOCK_DEPTH, MAX_DEPTH
from tests.domain.promotions.support import value


def problems_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(RulesetInvalid) as caught:
        compile_ruleset(document)
    return [(p.pointer, p.message) for p in caught.value.rule_problems]


def one_rule(condition: Any = None, effects: Any = None, **extra: Any) -> dict[str, Any]:
    rule = {"title": "R", "condition": condition or ["and", True], "effects": effects or []}
    filler = {"title": "ok", "condition": ["and", True], "effects": []}
    return {"rules": [filler, filler, {**rule, **extra}], "bindings": []}


# (condition, pointer, part of the message) — the faulty rule is rule 2
CONDITIONS: list[tuple[Any, str, str]] = [
    (
        ["and", ["couponValid"], ["fooBar", 1]],
        "/rules/2/condition/2/0",
        "unknown function 'fooBar'",
    ),
    (["and", ["cuponValid"]], "/rules/2/condition/1/0", "did you mean 'couponValid'"),
    (["and", ["acceptCoupon", "X"]], "/rules/2/condition/1/0", "the engine emits itself"),
    (["not", True, False], "/rules/2/condition", "not takes 1 argument, got 2"),
    (["and"], "/rules/2/condition", "and takes at least 1 argument, got 0"),
    (["between", 1, 2], "/rules/2/condition", "between takes at least 3 arguments"),
    (
        ["and", [">", [".", "Session", "Total"], "lots"]],
        "/rules/2/condition/1/2",
        "argument 2 of > needs a number or a time, got a string",
    ),
    (["and", ["=", 1, 1], 5], "/rules/2/condition/2", "argument 2 of and needs a boolean"),
    (
        [">", ["+", 1, 2], ["setDiscount", "x", 1]],
        "/rules/2/condition/2",
        "is an effect: effects belong in a rule's effects",
    ),
    (["+", 1, 2], "/rules/2/condition", "the condition needs a boolean, got a number"),
    (["and", []], "/rules/2/condition/1", "an empty array is not an expression"),
    (["and", None], "/rules/2/condition/1", "null is not a Talang expression"),
    (["and", {"a": 1}], "/rules/2/condition/1", "dict is not a Talang expression"),
    (["and", [1, 2]], "/rules/2/condition/1/0", "a call starts with a function name"),
    (["and", ["."]], "/rules/2/condition/1", "a path needs at least a name"),
    (["and", [".", "Sesion", "Total"]], "/rules/2/condition/1/1", "unknown name 'Sesion'"),
    (["and", [".", "Session", "Totl"]], "/rules/2/condition/1/2", "no field 'Totl' here"),
    (
        ["and", [".", "Session", "Total", "x"]],
        "/rules/2/condition/1/3",
        "cannot read 'x' of a value that has no fields",
    ),
    (["and", [".", "Session", "Attributes..x"]], "/rules/2/condition/1/2", "has an empty name"),
    (["and", [".", "Session", True]], "/rules/2/condition/1/2", "a path part must be a name"),
    (
        ["exists", [".", "Session", "CartItems"], ["Item", "x"], True],
        "/rules/2/condition/2",
        "a block takes exactly one parameter",
    ),
    (
        ["exists", [".", "Session", "CartItems"], ["Session"], True],
        "/rules/2/condition/2",
        "a block parameter cannot be called 'Session'",
    ),
    (
        ["exists", [".", "Session", "CartItems"], ["Item"], ["+", 1, 1]],
        "/rules/2/condition/3",
        "the block needs a boolean",
    ),
    (
        ["exists", [".", "Session", "CartItems"], [["Item"], [".", "Item", "Colour"]]],
        "/rules/2/condition/2/1/2",
        "no field 'Colour'",
    ),
    (
        ["exists", [".", "Session", "Total"], ["Item"], True],
        "/rules/2/condition/1",
        "argument 1 of exists needs a list",
    ),
    (["and", ["~", "(a+)+", "x"]], "/rules/2/condition/1/1", "the pattern is refused"),
    (
        ["and", ["~", [".", "Session", "State"], "x"]],
        "/rules/2/condition/1/1",
        "the pattern must be a literal string",
    ),
    (
        ["and", ["after", "yesterday", ["now"]]],
        "/rules/2/condition/1/1",
        "needs a time, got a string",
    ),
    (
        ["and", [">", ["addDuration", ["now"], 1, "fortnights"], ["now"]]],
        "/rules/2/condition/1/1/3",
        "unknown unit 'fortnights'",
    ),
    (
        ["and", [">", ["eventCount", "Order", 99999], 1]],
        "/rules/2/condition/1/1/2",
        "a window is 0 to",
    ),
    (["and", [">", 1, float("inf")]], "/rules/2/condition/1/2", "a number must be finite"),
    (["and", [".", "Item", "Price"]], "/rules/2/condition/1/1", "unknown name 'Item'"),
    (["and", ["=", ["kv", ["a"]], 1]], "/rules/2/condition/1/1/1", "kv takes pairs"),
]


@pytest.mark.parametrize(("condition", "pointer", "message"), CONDITIONS, ids=lambda v: str(v)[:50])
def test_condition_refused_with_its_position(condition: Any, pointer: str, message: str) -> None:
    problems = problems_of(one_rule(condition))
    assert any(at == pointer and message in text for at, text in problems), problems


# (effects, pointer, part of the message)
EFFECTS: list[tuple[Any, str, str]] = [
    (
        [["setDiscount", "x", 1, "wholeCart"]],
        "/rules/2/effects/0/3",
        "'wholeCart' is not one of sessionTotal",
    ),
    ([["setDiscountPerItem", "x", 1, 0, "shoe"]], "/rules/2/effects/0/4", "is not one of price"),
    ([["showNotification", "Alert", "t", "b"]], "/rules/2/effects/0/1", "is not one of Info"),
    (
        [["updateAttribute", "Profile.tier", "gold"]],
        "/rules/2/effects/0/1",
        "the path is Profile.Attributes.<name>",
    ),
    ([["setDiscount", "x"]], "/rules/2/effects/0", "setDiscount takes 2 arguments or 3"),
    ([["+", 1, 2]], "/rules/2/effects/0", "must give effects, not a number"),
    ([["list", 1, 2]], "/rules/2/effects/0", "must give effects, not a list of a number"),
    (["setDiscount"], "/rules/2/effects/0", "an effect is an expression (a JSON array)"),
    ({"a": 1}, "/rules/2/effects", "effects must be an array"),
    ([["couponCreated", "X"]], "/rules/2/effects/0/0", "the engine emits itself"),
]


@pytest.mark.parametrize(("effects", "pointer", "message"), EFFECTS, ids=lambda v: str(v)[:50])
def test_effect_refused_with_its_position(effects: Any, pointer: str, message: str) -> None:
    problems = problems_of(one_rule(effects=effects))
    assert any(at == pointer and message in text for at, text in problems), problems


def test_the_error_names_the_rule_index_title_and_pointer() -> None:
    with pytest.raises(RulesetInvalid) as caught:
        compile_ruleset(one_rule(["and", ["couponValid"], ["zzz"]]))
    error = caught.value
    assert isinstance(error, Invalid)  # a surface maps it to its 400
    (problem,) = error.rule_problems
    assert (problem.rule_index, problem.rule_title) == (2, "R")
    assert problem.pointer == "/rules/2/condition/2/0"
    assert str(error) == "rule 2 ('R') at /rules/2/condition/2/0: unknown function 'zzz'"
    assert error.problems[0].field == "/rules/2/condition/2/0"


def test_every_problem_of_a_ruleset_is_listed() -> None:
    document = {
        "rules": [
            {"title": "a", "condition": ["and", ["nope"]], "effects": [["setDiscount", 1, 2]]},
            {"title": "b", "condition": ["and", [".", "Session", "Nope"]], "effects": []},
        ],
        "bindings": [{"name": "x", "expression": ["nope2"]}],
    }
    pointers = [pointer for pointer, _ in problems_of(document)]
    assert pointers == [
        "/bindings/0/expression/0",
        "/rules/0/condition/1/0",
        "/rules/0/effects/0/1",
        "/rules/1/condition/1/2",
    ]
    with pytest.raises(RulesetInvalid, match="and 3 more"):
        compile_ruleset(document)


@pytest.mark.parametrize(
    ("document", "pointer", "message"),
    [
        ([], "", "a ruleset is a JSON object"),
        ({"rules": {}}, "/rules", "rules must be an array"),
        ({"rules": ["x"]}, "/rules/0", "a rule is a JSON object"),
        (
            {"rules": [{"condition": ["and", True], "effects": []}]},
            "/rules/0/title",
            "a rule needs a title",
        ),
        (
            {"rules": [{"title": "t", "condition": True, "effects": []}]},
            "/rules/0/condition",
            "a condition is one expression",
        ),
        (
            {"rules": [{"title": "t", "effects": []}]},
            "/rules/0/condition",
            "a condition is one expression",
        ),
        (
            {"rules": [], "bindings": [{"name": "Session", "expression": 1}]},
            "/bindings/0/name",
            "a binding needs a new name",
        ),
        (
            {
                "rules": [],
                "bindings": [{"name": "a", "expression": 1}, {"name": "a", "expression": 2}],
            },
            "/bindings/1/name",
            "defined twice",
        ),
        (
            {"rules": [], "bindings": [{"name": "a", "expression": ["noop"]}]},
            "/bindings/0/expression",
            "is an effect",
        ),
        (
            {
                "rules": [
                    {
                        "title": "t",
                        "condition": ["and", True],
                        "effects": [],
                        "failureEffects": [["setDiscount", "x", 1]],
                    }
                ]
            },
            "/rules/0/failureEffects/0",
            "a failure effect is a showNotification or a customEffect",
        ),
        (
            {
                "rules": [{"title": "t", "condition": ["and", [".", "later"]], "effects": []}],
                "bindings": [],
            },
            "/rules/0/condition/1/1",
            "unknown name 'later'",
        ),
    ],
)
def test_ruleset_shape_refused(document: Any, pointer: str, message: str) -> None:
    problems = problems_of(document)
    assert any(at == pointer and message in text for at, text in problems), problems


def test_a_binding_sees_only_the_bindings_before_it() -> None:
    document = {
        "rules": [],
        "bindings": [
            {"name": "a", "expression": ["+", [".", "b"], 1]},
            {"name": "b", "expression": 1},
        ],
    }
    assert problems_of(document)[0][0] == "/bindings/0/expression/1/1"


def test_nesting_is_bounded() -> None:
    deep: Any = True
    for _ in range(MAX_DEPTH + 1):
        deep = ["not", deep]
    assert "nest at most" in problems_of(one_rule(deep))[0][1]
    block: Any = True
    for index in range(MAX_BLOCK_DEPTH + 1):
        block = ["exists", ["list", 1], [f"x{index}"], block]
    assert "blocks nest at most" in problems_of(one_rule(block))[0][1]


def test_a_refused_expression_never_runs() -> None:
    with pytest.raises(RulesetInvalid):
        compile_expression(["and", ["nope"]])


def test_literal_strings_become_numbers_and_times_where_those_are_wanted() -> None:
    assert value([">", "12.5", 3]) is True
    assert compile_expression([">", "12.5", 3]).to_json() == [">", "12.5", 3]  # as written
    assert value(["after", "2024-01-01", "2023-12-31T23:00:00+01:00"]) is True
