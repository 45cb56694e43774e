"""Every operator, its negation, the missing-field rule and type mismatches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patron.domain.criteria import compile_predicate, parse

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
RECORD: dict[str, Any] = {
    "s": "/action/do-it",
    "n": 12,
    "f": 2.5,
    "b": True,
    "z": None,
    "d": "2024-05-30T10:00:00Z",
    "o": {"deep": {"x": "y"}},
    "a": ["x"],
}


def matches(field: str, op: str, value: Any = None, record: dict[str, Any] = RECORD) -> bool:
    return compile_predicate(parse([{"field": field, "op": op, "value": value}]))(record, NOW)


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("s", "equals", "/action/do-it", True),
        ("s", "equals", "/action", False),
        ("n", "equals", 12, True),
        ("n", "eq", 12.0, True),
        ("f", "equals", 2.5, True),
        ("b", "equals", True, True),
        ("b", "equals", 1, False),  # a boolean is not a number
        ("n", "equals", True, False),
        ("n", "equals", "12", False),  # no conversions
        ("s", "begins", "/action", True),
        ("s", "begins", "action", False),
        ("s", "begins", "", True),
        ("s", "ends", "do-it", True),
        ("s", "ends", "do", False),
        ("s", "contains", "on/do", True),
        ("s", "contains", "xyz", False),
        ("s", "regex", "^/action/[a-z-]+$", True),
        ("s", "regex", "do-(it|that)", True),
        ("s", "regex", "^action", False),
        ("s", "in", ["a", "/action/do-it"], True),
        ("n", "in", ["12", 12], True),
        ("n", "in", ["12"], False),
        ("n", "gt", 11, True),
        ("n", "gt", 12, False),
        ("n", "gte", 12, True),
        ("n", "lt", 12.5, True),
        ("n", "lte", 11, False),
        ("f", "between", [2.5, 3], True),
        ("f", "between", [3, 4], False),
        ("s", "exists", None, True),
        ("z", "exists", None, False),
        ("nope", "exists", None, False),
        ("o.deep.x", "equals", "y", True),
        ("o.deep", "exists", None, True),
        ("d", "before", "2024-05-30T10:00:00.001Z", True),
        ("d", "before", "2024-05-30T12:00+02:00", False),  # the same moment
        ("d", "after", "2024-05-30", True),
        ("d", "within", 3, True),
        ("d", "within", 1, False),
    ],
)
def test_operator_and_its_negation(field: str, op: str, value: Any, expected: bool) -> None:
    assert matches(field, op, value) is expected
    assert matches(field, "n" + op if op not in ("eq",) else "neq", value) is (not expected)


MISMATCHES = [
    ("equals", "x"),
    ("begins", "x"),
    ("ends", "x"),
    ("contains", "x"),
    ("regex", "x"),
    ("in", ["x", 1]),
    ("gt", 1),
    ("gte", 1),
    ("lt", 1),
    ("lte", 1),
    ("between", [0, 1]),
    ("before", "2024-01-01"),
    ("after", "2024-01-01"),
    ("within", 3),
]


@pytest.mark.parametrize(("op", "value"), MISMATCHES)
@pytest.mark.parametrize("field", ["absent", "z", "o.deep.x.more", "a.b", "o"])
def test_a_missing_or_unusable_field_satisfies_only_negations(
    field: str, op: str, value: Any
) -> None:
    assert matches(field, op, value) is False
    assert matches(field, "n" + op, value) is True


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [("n", "begins", "1"), ("s", "gt", 1), ("b", "equals", 1), ("s", "before", "2030-01-01")],
)
def test_type_mismatches_follow_the_same_rule(field: str, op: str, value: Any) -> None:
    assert matches(field, op, value) is False
    assert matches(field, "n" + op, value) is True


@pytest.mark.parametrize(
    "text", ["2024-02-30", "2024-01-01T10:00:00.1234Z", "yesterday", "2024-1-1", "0999-01-01"]
)
def test_text_that_is_not_a_date_in_the_format_is_a_mismatch(text: str) -> None:
    assert not matches("d", "before", "2100-01-01", {"d": text})
    assert not matches("d", "after", "1001-01-01", {"d": text})


def test_missing_is_an_alias_of_nexists() -> None:
    assert matches("absent", "missing")
    assert not matches("s", "missing")


def test_groups_combine_conditions() -> None:
    criteria = [
        {"field": "s", "op": "begins", "value": "/action"},
        {
            "any": [
                {"field": "n", "op": "gt", "value": 100},
                {"not": {"field": "b", "op": "equals", "value": False}},
            ]
        },
    ]
    assert compile_predicate(parse(criteria))(RECORD, NOW)
    criteria[1] = {"not": [{"field": "n", "op": "gt", "value": 1}, {"field": "b", "op": "exists"}]}
    assert not compile_predicate(parse(criteria))(RECORD, NOW)


def test_an_empty_list_matches_everything() -> None:
    assert compile_predicate(parse([]))({}, NOW)


def test_regex_dollar_is_the_end_of_the_value_and_dot_matches_newlines() -> None:
    assert not matches("s", "regex", "a$", {"s": "a\n"})
    assert matches("s", "regex", "a.b", {"s": "a\nb"})
