"""The SQL evaluator agrees with the Python evaluator, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, Integer, MetaData, Table, insert, select

from patron.domain.criteria import compile_predicate, parse
from patron.domain.criteria.regex import PatternError, compile_pattern
from patron.store.criteria_sql import to_sql
from patron.store.database import Database
from patron.store.types import Json

NOW = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
scratch = MetaData()
probe = Table(
    "criteria_probe",
    scratch,
    Column("id", Integer, primary_key=True),
    Column("doc", Json, nullable=False),
)


@pytest.fixture
def connection(database_url: str) -> Iterator[Connection]:
    database = Database(database_url)
    scratch.create_all(database.writer)
    try:
        with database.writer.connect() as connected:
            yield connected
    finally:
        scratch.drop_all(database.writer)
        database.dispose()


def matching_ids(connection: Connection, criteria: list[Any]) -> set[int]:
    where = to_sql(parse(criteria), probe.c.doc, dialect=connection.dialect.name, now=NOW)
    return set(connection.scalars(select(probe.c.id).where(where)))


def python_ids(records: list[dict[str, Any]], criteria: list[Any]) -> set[int]:
    predicate = compile_predicate(parse(criteria))
    return {i for i, record in enumerate(records) if predicate(record, NOW)}


# -- strategies ---------------------------------------------------------------

numbers = st.sampled_from([0, 1, -1, 2, 12, 2.5, -3.75, 0.1, 1e-3, 2**40, 12345.678])
# Strings that other JSON values print as: a string test must not match those values.
LOOKALIKES = ["0", "1", "-1", "2.5", "0.001", "true", "false", "null", "", "[]", "{}", "[1]"]
texts = st.one_of(st.text(alphabet="ab/.-\n é", max_size=4), st.sampled_from(LOOKALIKES))


def _stamp(moment: datetime, form: int) -> str:
    forms = [
        moment.strftime("%Y-%m-%d"),
        moment.strftime("%Y-%m-%dT%H:%M"),
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
        (moment + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
        (moment - timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M-01:30"),
    ]
    return forms[form]


dates = st.builds(
    _stamp,
    st.integers(-4 * 86_400_000, 86_400_000).map(
        lambda ms: NOW.replace(microsecond=123000) + timedelta(milliseconds=ms)
    ),
    st.integers(0, 5),
)
not_quite_dates = st.sampled_from(
    ["2024-02-30", "2024-02-29", "2023-02-29T10:00Z", "2024-06-01 12:00", "2024-06-01\n", "x"]
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, dates, not_quite_dates)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.just("d"), scalars))
records = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "a": values,
            "b": values,
            "c": st.one_of(scalars, st.fixed_dictionaries({}, optional={"d": values})),
        },
    ),
    max_size=8,
)
fields = st.sampled_from(["a", "b", "c", "c.d", "c.d.d", "x"])

pattern_pieces = st.sampled_from(
    ["a", "b", ".", "[ab]", "[^a]", "[a-c]", "-", "\\.", "é", "/", "\\n", "(ab)", "(a|é)"]
)
quantifiers = st.sampled_from(["", "", "*", "+", "?", "{1,2}"])


def _regex(parts: list[tuple[str, str]], start: bool, end: bool, alternate: bool) -> str:
    body = "".join(piece + quantifier for piece, quantifier in parts)
    if alternate:
        body = f"(?:{body}|b)"
    return ("^" if start else "") + body + ("$" if end else "")


def _valid(pattern: str) -> bool:
    try:
        compile_pattern(pattern)
    except PatternError:
        return False
    return True


regexes = st.builds(
    _regex,
    st.lists(st.tuples(pattern_pieces, quantifiers), min_size=1, max_size=3),
    st.booleans(),
    st.booleans(),
    st.booleans(),
).filter(_valid)

OPERANDS = {
    "equals": st.one_of(st.booleans(), numbers, texts, dates),
    "begins": texts,
    "ends": texts,
    "contains": texts,
    "regex": regexes,
    "in": st.lists(st.one_of(st.booleans(), numbers, texts), min_size=1, max_size=3),
    "gt": numbers,
    "gte": numbers,
    "lt": numbers,
    "lte": numbers,
    "between": st.lists(numbers, min_size=2, max_size=2).map(sorted),
    "exists": st.none(),
    "before": dates,
    "after": dates,
    "within": st.integers(0, 3),
}


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(sorted(OPERANDS)))
    name = draw(st.sampled_from([op, "n" + op]))
    return {"field": draw(fields), "op": name, "value": draw(OPERANDS[op])}


criteria_lists = st.lists(
    st.recursive(
        conditions(),
        lambda inner: st.one_of(
            st.builds(lambda items: {"any": items}, st.lists(inner, max_size=3)),
            st.builds(lambda items: {"all": items}, st.lists(inner, max_size=3)),
            st.builds(lambda item: {"not": item}, inner),
        ),
        max_leaves=5,
    ),
    max_size=3,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=records, batches=st.lists(criteria_lists, min_size=1, max_size=4))
def test_sql_and_python_agree(
    connection: Connection, records: list[dict[str, Any]], batches: list[list[Any]]
) -> None:
    with connection.begin():
        connection.execute(probe.delete())
        if records:
            connection.execute(
                insert(probe), [{"id": i, "doc": record} for i, record in enumerate(records)]
            )
    for criteria in batches:
        assert matching_ids(connection, criteria) == python_ids(records, criteria), criteria
    connection.rollback()


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ({"field": "s", "op": "regex", "value": "[\\]x]$"}, True),
        ({"field": "s", "op": "regex", "value": "a\\.b"}, False),
        ({"field": "d", "op": "before", "value": "2024-06-01T12:00:00.124Z"}, True),
        ({"field": "d", "op": "within", "value": 0}, True),
        ({"field": "bad", "op": "after", "value": "2000-01-01"}, False),
        ({"field": "n", "op": "equals", "value": 2**40}, True),
        ({"field": "t", "op": "equals", "value": True}, True),
        ({"field": "t", "op": "equals", "value": 1}, False),
    ],
)
def test_edge_cases_agree(connection: Connection, criterion: Any, expected: bool) -> None:
    record = {
        "s": "a]",
        "d": "2024-06-01T12:00:00.123Z",
        "bad": "2023-02-29",
        "n": 2**40,
        "t": True,
    }
    with connection.begin():
        connection.execute(insert(probe), [{"id": 0, "doc": record}])
    assert python_ids([record], [criterion]) == ({0} if expected else set())
    assert matching_ids(connection, [criterion]) == ({0} if expected else set())


def test_strings_never_equal_other_values_that_print_alike(connection: Connection) -> None:
    """String equality reads a value's text, where the dialect allows: "1" must not match 1."""
    others: list[Any] = [0, 1, -1, 2.5, 0.001, True, False, None, [], {}, [1], {"d": 1}]
    records = [{"a": value} for value in [*others, *LOOKALIKES]]
    with connection.begin():
        connection.execute(insert(probe), [{"id": i, "doc": r} for i, r in enumerate(records)])
    for text in LOOKALIKES:
        for criterion in (
            {"field": "a", "op": "equals", "value": text},
            {"field": "a", "op": "in", "value": [text, "zz"]},
            {"field": "a", "op": "nequals", "value": text},
        ):
            expected = python_ids(records, [criterion])
            assert matching_ids(connection, [criterion]) == expected, criterion
