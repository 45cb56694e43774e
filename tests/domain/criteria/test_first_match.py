"""The compiled first-match and all-matches functions agree with the evaluator, tree by tree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.domain.criteria import compile_predicate, parse
from patron.domain.criteria import first_match as first_match_module
from patron.domain.criteria.first_match import compile_all_matches, compile_first_match
from tests.store.test_criteria_sql import NOW, criteria_lists, fields, records, texts


def expected_index(trees: list[Any], record: dict[str, Any]) -> int:
    for index, tree in enumerate(trees):
        if compile_predicate(tree)(record, NOW):
            return index
    return -1


def assert_first_match_agrees(
    records: list[dict[str, Any]], segment_criteria: list[list[Any]], **options: Any
) -> None:
    trees = [parse(criteria) for criteria in segment_criteria]
    first_match = compile_first_match(trees, **options)
    for record in records:
        assert first_match(record, NOW) == expected_index(trees, record), (record, segment_criteria)


@settings(max_examples=300, deadline=None)
@given(records=records, segment_criteria=st.lists(criteria_lists, max_size=5))
def test_first_match_agrees_with_the_evaluator(
    records: list[dict[str, Any]], segment_criteria: list[list[Any]]
) -> None:
    assert_first_match_agrees(records, segment_criteria)


# A condition that makes a tree a candidate only for some strings of a field
# (or, negated, must not), over strings the records often hold.
short_texts = st.sampled_from(["", "a", "b", "ab", "é"])
string_guards = st.one_of(
    st.builds(
        lambda field, op, text: {"field": field, "op": op, "value": text},
        fields,
        st.sampled_from(["equals", "nequals"]),
        st.one_of(short_texts, texts),
    ),
    st.builds(
        lambda field, op, options: {"field": field, "op": op, "value": options},
        fields,
        st.sampled_from(["in", "nin"]),
        st.lists(st.one_of(short_texts, texts, st.just(1)), min_size=1, max_size=3),
    ),
)
guarded_criteria = st.builds(
    lambda guards, rest: [*guards, *rest], st.lists(string_guards, max_size=2), criteria_lists
)


@settings(max_examples=300, deadline=None)
@given(records=records, segment_criteria=st.lists(guarded_criteria, max_size=8))
def test_dispatching_on_a_guarded_field_agrees_with_the_evaluator(
    records: list[dict[str, Any]], segment_criteria: list[list[Any]]
) -> None:
    """Dispatch from the first guarded tree on (the default waits for four)."""
    assert_first_match_agrees(records, segment_criteria, min_guarded=1)


def test_segments_of_other_events_are_not_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the trees that can match an event's name are compiled for it; order still decides."""
    compiled: list[int] = []
    sequential = first_match_module._sequential_first_match

    def counting(nodes: Any) -> Any:
        compiled.append(len(nodes))
        return sequential(nodes)

    monkeypatch.setattr(first_match_module, "_sequential_first_match", counting)
    trees = [
        parse(
            [
                {"field": "event", "op": "equals", "value": f"E{n}"},
                {"field": "n", "op": "gt", "value": n},
            ]
        )
        for n in range(5)
    ]
    trees.append(parse([{"field": "event", "op": "in", "value": ["E1", "E2"]}]))
    trees.append(parse([{"field": "n", "op": "gte", "value": 0}]))
    first_match = compile_first_match(trees)

    # Per name: its own tree(s) and the catch-all; for any other value, the catch-all.
    assert sorted(compiled) == [1, 2, 2, 2, 3, 3]
    assert first_match({"event": "E3", "n": 10}, NOW) == 3
    assert first_match({"event": "E3", "n": 1}, NOW) == 6  # E3's tree fails; the catch-all matches
    assert first_match({"event": "E2", "n": 1}, NOW) == 5
    assert first_match({"event": "other", "n": 10}, NOW) == 6
    assert first_match({"event": 3, "n": 10}, NOW) == 6  # not a string: no name's list
    assert first_match({"n": -1}, NOW) == -1


def test_only_strings_guard() -> None:
    """``in`` a list holding a number, or ``nequals``, never keeps a tree from other values."""
    trees = [parse([{"field": "k", "op": "equals", "value": f"v{n}"}]) for n in range(4)]
    trees.append(parse([{"field": "k", "op": "in", "value": [1, "v9"]}]))
    trees.append(parse([{"field": "k", "op": "nequals", "value": "v8"}]))
    first_match = compile_first_match(trees, min_guarded=1)
    assert first_match({"k": 1}, NOW) == 4
    assert first_match({"k": "v9"}, NOW) == 4
    assert first_match({"k": "v7"}, NOW) == 5
    assert first_match({"k": "v8"}, NOW) == -1


@settings(max_examples=200, deadline=None)
@given(records=records, segment_criteria=st.lists(criteria_lists, max_size=5))
def test_all_matches_agrees_with_the_evaluator(
    records: list[dict[str, Any]], segment_criteria: list[list[Any]]
) -> None:
    trees = [parse(criteria) for criteria in segment_criteria]
    all_matches = compile_all_matches(trees)
    for record in records:
        want = [i for i, tree in enumerate(trees) if compile_predicate(tree)(record, NOW)]
        assert all_matches(record, NOW) == want, (record, segment_criteria)


def test_paths_shared_across_trees_and_field_names_that_look_like_locals() -> None:
    trees = [
        parse([{"field": "s.a", "op": "equals", "value": "x"}]),
        parse([{"field": "s", "op": "begins", "value": "x"}]),
        parse([{"field": "f", "op": "gt", "value": 1}, {"field": "record", "op": "exists"}]),
    ]
    first_match = compile_first_match(trees)
    assert first_match({"s": {"a": "x"}}, NOW) == 0
    assert first_match({"s": "xy"}, NOW) == 1
    assert first_match({"f": 2, "record": 0}, NOW) == 2
    assert first_match({"f": True, "record": 0}, NOW) == -1  # booleans are not numbers
    assert compile_first_match([])({}, NOW) == -1


def test_values_never_become_code() -> None:
    hostile = "x') or __import__('os').system('false') or ('"
    first_match = compile_first_match([parse([{"field": "a", "op": "equals", "value": hostile}])])
    assert first_match({"a": hostile}, NOW) == 0
    assert first_match({"a": "x"}, NOW) == -1


GRID_VALUES: list[Any] = [
    None, True, False, 0, 1, 2, 2.5, -1, 2**40, "", "a", "ab", "b/a", "2", "1",
    "2024-06-01", "2024-06-01T12:00:00.123Z", "2024-05-31T12:00Z", "2024-06-02", "2023-02-29",
    [1], {"d": "a"},
]  # fmt: skip
GRID_OPERANDS: dict[str, list[Any]] = {
    "equals": [True, False, 0, 1, 2, 2.5, "a", "2", "2024-06-01"],
    "begins": ["", "a", "b"],
    "ends": ["", "a", "b"],
    "contains": ["", "a", "/"],
    "regex": ["^a", "b$", "a|2", "[0-9]"],
    "in": [[1, "a"], [True], [2.5, "ab", False]],
    "gt": [0, 1, 2, 2.5], "gte": [0, 1, 2, 2.5], "lt": [0, 1, 2, 2.5], "lte": [0, 1, 2, 2.5],
    "between": [[0, 2], [1, 1], [2.5, 40]],
    "exists": [None],
    "before": ["2024-06-01", "2024-06-01T12:00:00.123Z"],
    "after": ["2024-06-01", "2024-05-31T12:00Z"],
    "within": [0, 1, 3],
}  # fmt: skip


def test_every_operator_at_its_boundaries_agrees_with_the_evaluator() -> None:
    for op, operands in GRID_OPERANDS.items():
        for name in (op, "n" + op):
            for operand in operands:
                for path in ("a", "c.d"):
                    tree = parse([{"field": path, "op": name, "value": operand}])
                    first_match = compile_first_match([tree])
                    evaluate = compile_predicate(tree)
                    for value in GRID_VALUES:
                        record = {"a": value} if path == "a" else {"c": {"d": value}}
                        want = 0 if evaluate(record, NOW) else -1
                        assert first_match(record, NOW) == want, (name, operand, record)
