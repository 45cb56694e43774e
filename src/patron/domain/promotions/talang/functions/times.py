"""Times: comparisons, durations and calendar parts.

A time is an aware datetime; a string literal that reads as RFC 3339 is one
(``"2024-12-24T00:00:00Z"``; a bare date is its midnight, UTC). ``now`` is
the evaluation's clock (``now`` of :func:`evaluate`, so dry runs can travel
in time). Calendar parts (``hour``, ``weekday``…) are read in the
application's timezone, as a shop's "happy hour" means its own hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.nodes import Literal, Node, Scope
from patron.domain.promotions.talang.registry import Function, Overload, scoped, strict
from patron.domain.promotions.talang.values import (
    ARITHMETIC,
    BOOLEAN,
    DECIMAL,
    STRING,
    TIME,
    Kind,
    as_decimal,
    as_string,
    as_time,
    parse_time,
)

MOMENT = Kind.TIME  # a string literal must read as a time; other strings are read at run time
UNITS = {
    "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}
SECONDS_PER_DAY = Decimal(86_400)


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _local(scope: Scope, value: Any) -> datetime:
    return as_time(value).astimezone(zone(scope.context.application.timezone))


def _duration(amount: Any, unit: Any) -> timedelta:
    step = UNITS.get(as_string(unit))
    if step is None:
        raise EvaluationError(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")
    try:
        return step * float(as_decimal(amount))
    except OverflowError:
        raise EvaluationError("the duration is too long") from None


def _shift(sign: int) -> Any:
    def shift(moment: Any, amount: Any, unit: Any) -> datetime:
        try:
            return as_time(moment) + sign * _duration(amount, unit)
        except OverflowError:
            raise EvaluationError("the time is out of range") from None

    return shift


def _days_between(first: datetime, second: datetime) -> Decimal:
    seconds = Decimal(str((second - first).total_seconds()))
    return ARITHMETIC.divide(seconds, SECONDS_PER_DAY)


def _unit_check(node: Node) -> str | None:
    if isinstance(node, Literal) and node.value not in UNITS:
        return f"unknown unit {node.value!r} (known: {', '.join(UNITS)})"
    return None


def _parse(text: Any) -> datetime:
    moment = parse_time(as_string(text))
    if moment is None:
        raise EvaluationError(f"{text!r} is not an RFC 3339 time")
    return moment


def _part(pick: Any, summary: str, name: str) -> Function:
    return scoped(name, (MOMENT,), STRING, lambda scope, value: pick(_local(scope, value)), summary)


FUNCTIONS: list[Function] = [
    Function(
        "now",
        (Overload((), TIME),),
        lambda _site: lambda scope: scope.now,
        "the time of the evaluation (Patron)",
    ),
    strict(
        "after",
        (MOMENT, MOMENT),
        BOOLEAN,
        lambda a, b: as_time(a) > as_time(b),
        "true when the first time is after the second",
    ),
    strict(
        "before",
        (MOMENT, MOMENT),
        BOOLEAN,
        lambda a, b: as_time(a) < as_time(b),
        "true when the first time is before the second",
    ),
    strict(
        "betweenTimes",
        (MOMENT, MOMENT, MOMENT),
        BOOLEAN,
        lambda t, low, high: as_time(low) < as_time(t) < as_time(high),
        "true when the first time lies strictly between the other two",
    ),
    Function(
        "addDuration",
        (Overload((MOMENT, Kind.DECIMAL, Kind.STRING), TIME),),
        lambda site: _three(_shift(1), site),
        "the time plus an amount of a unit",
        literal_checks=((2, _unit_check),),
    ),
    Function(
        "subDuration",
        (Overload((MOMENT, Kind.DECIMAL, Kind.STRING), TIME),),
        lambda site: _three(_shift(-1), site),
        "the time minus an amount of a unit",
        literal_checks=((2, _unit_check),),
    ),
    scoped(
        "days",
        (MOMENT,),
        DECIMAL,
        lambda scope, value: _days_between(as_time(value), scope.now),
        "days from the time to now (negative for a future time)",
    ),
    strict(
        "daysBetween",
        (MOMENT, MOMENT),
        DECIMAL,
        lambda a, b: _days_between(as_time(a), as_time(b)),
        "days from the first time to the second",
    ),
    _part(lambda t: t.strftime("%Y-%m-%d"), "the date, YYYY-MM-DD", "date"),
    _part(lambda t: f"{t.hour:02d}", "the hour, 00-23", "hour"),
    _part(lambda t: f"{t.minute:02d}", "the minute, 00-59", "minute"),
    _part(lambda t: str(t.month), "the month, 1-12", "month"),
    _part(lambda t: str(t.day), "the day of the month, 1-31", "monthDay"),
    _part(lambda t: str(t.isoweekday() % 7), "the day of the week, 0 (Sunday)-6", "weekday"),
    _part(lambda t: str(t.year), "the year", "year"),
    strict(
        "formatTime",
        (MOMENT,),
        STRING,
        lambda value: as_time(value).isoformat().replace("+00:00", "Z"),
        "the time in RFC 3339",
    ),
    strict("parseTime", (Kind.STRING,), TIME, _parse, "the RFC 3339 string as a time"),
]


def _three(impl: Any, site: Any) -> Any:
    first, second, third = site.runs
    return lambda scope: impl(first(scope), second(scope), third(scope))
