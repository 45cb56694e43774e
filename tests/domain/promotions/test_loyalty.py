"""Loyalty's pure parts: Talon durations, program dates, the ledger's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patron.domain.promotions.loyalty import (
    IMMEDIATE,
    UNLIMITED,
    Addition,
    Duration,
    Program,
    parse_duration,
    reverse_addition,
    reverse_deduction,
    take,
    validate_points,
    validate_program,
)

NOW = datetime(2025, 1, 31, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", datetime(2025, 1, 31, 10, 30, 30, tzinfo=UTC)),
        ("40m", datetime(2025, 1, 31, 11, 10, tzinfo=UTC)),
        ("1h", datetime(2025, 1, 31, 11, 30, tzinfo=UTC)),
        ("5D", datetime(2025, 2, 5, 10, 30, tzinfo=UTC)),
        ("2W", datetime(2025, 2, 14, 10, 30, tzinfo=UTC)),
        ("1M", datetime(2025, 2, 28, 10, 30, tzinfo=UTC)),  # the month's last day
        ("13M", datetime(2026, 2, 28, 10, 30, tzinfo=UTC)),
        ("1Y", datetime(2026, 1, 31, 10, 30, tzinfo=UTC)),
        ("1D_D", datetime(2025, 2, 1, tzinfo=UTC)),
        ("1D_U", datetime(2025, 2, 1, 23, 59, 59, tzinfo=UTC)),
        ("1W_U", datetime(2025, 2, 9, 23, 59, 59, tzinfo=UTC)),  # Sunday
        ("1M_U", datetime(2025, 2, 28, 23, 59, 59, tzinfo=UTC)),
        ("1Y_U", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_durations_count_as_talon_does(text: str, expected: datetime) -> None:
    duration = parse_duration(text, none_word=UNLIMITED)
    assert duration is not None
    assert duration.text == text
    assert duration.after(NOW) == expected


def test_days_and_rounding_follow_the_programs_time_zone() -> None:
    # 23:30 UTC is already the next day in Berlin: its end is 22:59:59 UTC.
    late = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    assert Duration(1, "D", "U").after(late, "Europe/Berlin") == datetime(
        2025, 3, 3, 22, 59, 59, tzinfo=UTC
    )
    # A day across the switch to summer time is 23 hours long.
    before = datetime(2025, 3, 29, 12, tzinfo=UTC)
    assert Duration(1, "D").after(before, "Europe/Berlin") - before == timedelta(hours=23)


@pytest.mark.parametrize(
    "text", ["", "1", "D", "1d", "1.5D", "-1D", "1h_U", "1W_D", "1234567D", "101Y", "999999M"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"unit|rounds|hundred"):
        parse_duration(text, none_word=UNLIMITED)


def test_the_words_and_zero() -> None:
    assert parse_duration(UNLIMITED, none_word=UNLIMITED) is None
    assert parse_duration(IMMEDIATE, none_word=IMMEDIATE) is None
    assert parse_duration("0D", none_word=IMMEDIATE) is None
    with pytest.raises(ValueError, match="longer"):
        parse_duration("0D", none_word=UNLIMITED)
    with pytest.raises(ValueError, match="unit"):
        parse_duration(IMMEDIATE, none_word=UNLIMITED)


def test_a_programs_points_start_after_pending_and_expire_after_validity() -> None:
    program = Program(1, "ws", "p", "P", default_validity="1M", default_pending="1D")
    assert program.dates(NOW) == (
        datetime(2025, 2, 1, 10, 30, tzinfo=UTC),
        datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
    )
    assert Program(1, "ws", "p", "P").dates(NOW) == (None, None)


def test_programs_and_points_are_validated() -> None:
    bad = Program(1, "ws", "", " ", default_validity="x", default_pending="y", timezone="Mars")
    fields = [problem.field for problem in validate_program(bad)]
    assert fields == ["name", "title", "defaultValidity", "defaultPending", "timezone"]
    assert validate_points(Decimal("0.01")) == []
    for points in ("0", "-1", "0.001", "1000000000000", "NaN"):
        assert validate_points(Decimal(points)), points


def addition(id_: int, remaining: str, **fields: object) -> Addition:
    return Addition(id_, Decimal(100), Decimal(remaining), **fields)  # type: ignore[arg-type]


def test_take_spends_the_earliest_expiring_active_points_first() -> None:
    additions = [
        addition(1, "10"),
        addition(2, "10", expiry=NOW + timedelta(days=9)),
        addition(3, "10", expiry=NOW + timedelta(days=2)),
        addition(4, "10", start=NOW + timedelta(days=1)),  # pending
        addition(5, "10", expiry=NOW),  # expired
    ]
    assert take(additions, Decimal(25), NOW) == {3: 10, 2: 10, 1: 5}
    assert sum(take(additions, Decimal(31), NOW).values()) == 30  # all there is


def test_reversals() -> None:
    spent = addition(1, "30")  # 70 of its 100 spent
    others = [spent, addition(2, "20"), addition(3, "15", start=NOW + timedelta(days=1))]
    reversal = reverse_addition(spent, others, Decimal(0), NOW)
    assert reversal.remaining == {1: 0, 2: 0, 3: 0}
    assert reversal.negative == 35  # 70 - 20 - 15
    given_back = reverse_deduction({2: Decimal(20), 3: Decimal(5)}, {a.id: a for a in others}, 8)
    assert given_back.remaining == {2: 32, 3: 20}  # 8 paid off first
    assert given_back.negative == 0
