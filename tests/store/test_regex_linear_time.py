"""Criteria regexes match in time linear in the text, on Python, SQLite and PostgreSQL.

Adversarial patterns of the subset (runs of unbounded repetitions, repeated
groups, alternations, ending in something the text never holds, so that a
backtracking matcher tries every split of the text) are matched against a
text of n characters and one of 8n, in the same run. Linear time makes the
second about 8 times slower; a backtracking matcher is at least quadratic
(64 times) on these, and usually far worse. The bound, 3 x 8, leaves room
for a loaded machine: each time is the best of several rounds, taken
alternately, and a ratio over the bound is measured again (a busy machine
can slow every round of one measurement; it cannot make an engine quadratic
three times in a row).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Connection, Integer, MetaData, Table, func, insert, select

from patron.domain.criteria import compile_predicate, event_field, parse
from patron.domain.criteria.first_match import compile_first_match
from patron.store.criteria_sql import to_sql
from patron.store.database import Database
from patron.store.types import Json
from tests.chaos import scale

pytestmark = pytest.mark.chaos

NOW = datetime(2026, 1, 1, tzinfo=UTC)
GROWTH = 8
BOUND = 3 * GROWTH  # linear: ~8; quadratic: 64
ROUNDS = 5
ATTEMPTS = 3
SMALL = scale(4_000, 20_000)  # characters; the large text has GROWTH times as many
EXAMPLES = scale(8, 100)
# Below this, a time is mostly the call's fixed cost: compare against it instead.
FLOOR_SECONDS = 50e-6

UNBOUNDED = [".*", ".+", "a*", "[ab]*", "[^X]*", "(?:ab)*", "(?:a[^X])+", "[a-c]+", "((ab)c)*"]
COUNTED = [".{0,40}", "[ab]{2,}", "(?:ab){1,20}", "a?", "[^X]{3,9}"]
PLAIN = ["a", "b", "ab", "(a|ab|abc)", "(?:b|a)", "[ab]", "."]
NEVER = ["[X]", "X", "[^a-c]", "(X|Y)", "Z$", "[XY]{2}"]

scratch = MetaData()
regex_probe = Table(
    "regex_probe",
    scratch,
    Column("id", Integer, primary_key=True),
    Column("doc", Json, nullable=False),
)


@st.composite
def adversarial_patterns(draw: st.DrawFn) -> str:
    """Mostly unbounded repetitions in a row, then what the text never holds."""

    def sequence() -> str:
        pieces = st.one_of(
            st.sampled_from(UNBOUNDED), st.sampled_from(COUNTED), st.sampled_from(PLAIN)
        )
        body = draw(st.lists(pieces, min_size=2, max_size=8))
        return "".join(body) + draw(st.sampled_from(NEVER))

    pattern = sequence()
    if draw(st.booleans()):
        pattern = f"{pattern}|{sequence()}"
    return ("^" if draw(st.booleans()) else "") + pattern


texts = st.builds(
    lambda unit, n: (unit * (n // len(unit) + 1))[:n],
    st.sampled_from(["a", "ab", "abc", "aab", "ba", "abcabcba"]),
    st.just(SMALL),
)


def _best(run: Callable[[], object], best: float) -> float:
    start = time.perf_counter()
    run()
    return min(best, time.perf_counter() - start)


def assert_linear(small: Callable[[], object], large: Callable[[], object], what: str) -> None:
    measured = []
    for _ in range(ATTEMPTS):
        small_best = large_best = float("inf")
        for _ in range(ROUNDS):
            small_best = _best(small, small_best)
            large_best = _best(large, large_best)
        ratio = large_best / max(small_best, FLOOR_SECONDS)
        if ratio < BOUND:
            return
        measured.append(
            f"{small_best * 1000:.2f} ms then {large_best * 1000:.2f} ms ({ratio:.1f} times)"
        )
    pytest.fail(f"{what}: {SMALL} then {SMALL * GROWTH} characters took " + "; ".join(measured))


@settings(max_examples=EXAMPLES, deadline=None)
@given(pattern=adversarial_patterns(), text=texts)
def test_python_evaluators_match_in_linear_time(pattern: str, text: str) -> None:
    criteria = [{"field": "x", "op": "regex", "value": pattern}]
    first_match = compile_first_match([parse(criteria, fields=event_field)])
    predicate = compile_predicate(parse(criteria, fields=event_field))
    small = {"properties": {"x": text}}
    large = {"properties": {"x": text * GROWTH}}
    assert first_match(large, NOW) == -1  # the whole text was searched, in vain
    assert_linear(lambda: first_match(small, NOW), lambda: first_match(large, NOW), pattern)
    assert_linear(lambda: predicate(small, NOW), lambda: predicate(large, NOW), pattern)


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


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pattern=adversarial_patterns(), text=texts)
def test_sql_evaluators_match_in_linear_time(
    connection: Connection, pattern: str, text: str
) -> None:
    with connection.begin():
        connection.execute(regex_probe.delete())
        connection.execute(
            insert(regex_probe),
            [{"id": 1, "doc": {"x": text}}, {"id": 2, "doc": {"x": text * GROWTH}}],
        )
    where = to_sql(
        parse([{"field": "x", "op": "regex", "value": pattern}]),
        regex_probe.c.doc,
        dialect=connection.dialect.name,
        now=NOW,
    )

    def count(row_id: int) -> Callable[[], Any]:
        query = select(func.count()).where(regex_probe.c.id == row_id, where)
        return lambda: connection.scalar(query)

    assert count(2)() == 0  # the whole text was searched, in vain
    assert_linear(count(1), count(2), f"{connection.dialect.name}: {pattern}")
    connection.rollback()
