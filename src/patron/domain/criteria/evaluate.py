"""The Python evaluator: a tree compiled once into closures, called per record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from patron.domain.criteria.dates import parse_date, window
from patron.domain.criteria.matcher import compile_matcher
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, NotOf, Op, Path, Pattern

Predicate = Callable[[Mapping[str, Any], datetime], bool]
Test = Callable[[Any, datetime], bool]

_MISSING: Any = object()


def compile_predicate(node: Node) -> Predicate:
    """A function ``(record, now) -> bool`` that evaluates ``node`` against a JSON record."""
    if isinstance(node, AllOf):
        parts = tuple(compile_predicate(item) for item in node.items)
        return lambda record, now: all(part(record, now) for part in parts)
    if isinstance(node, AnyOf):
        parts = tuple(compile_predicate(item) for item in node.items)
        return lambda record, now: any(part(record, now) for part in parts)
    if isinstance(node, NotOf):
        inner = compile_predicate(node.item)
        return lambda record, now: not inner(record, now)
    return _condition(node)


def _condition(condition: Condition) -> Predicate:
    get = _getter(condition.path)
    test = _test(condition)
    if condition.negated:
        return lambda record, now: not _holds(test, get(record), now)
    return lambda record, now: _holds(test, get(record), now)


def _holds(test: Test, value: Any, now: datetime) -> bool:
    # The one rule: a missing (or null) field satisfies no positive operator.
    return value is not _MISSING and test(value, now)


def _getter(path: Path) -> Callable[[Mapping[str, Any]], Any]:
    if len(path) == 1:
        (key,) = path

        def get_one(record: Mapping[str, Any]) -> Any:
            value = record.get(key)
            return _MISSING if value is None else value

        return get_one

    def get(record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in path:
            if not isinstance(value, dict):
                return _MISSING
            value = value.get(key)
        return _MISSING if value is None else value

    return get


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(expected: str | float | bool) -> Callable[[Any], bool]:
    """Equality within one JSON type: strings, booleans, or numbers as doubles."""
    if isinstance(expected, bool):
        return lambda value: isinstance(value, bool) and value is expected
    if isinstance(expected, str):
        return lambda value: isinstance(value, str) and value == expected
    return lambda value: _is_number(value) and float(value) == expected


def _text_test(check: Callable[[str], bool]) -> Test:
    return lambda value, _now: isinstance(value, str) and check(value)


def _number_test(check: Callable[[float], bool]) -> Test:
    return lambda value, _now: _is_number(value) and check(float(value))


def _date_test(check: Callable[[datetime, datetime], bool]) -> Test:
    def test(value: Any, now: datetime) -> bool:
        moment = parse_date(value)
        return moment is not None and check(moment, now)

    return test


def _within(days: int) -> Test:
    def check(moment: datetime, now: datetime) -> bool:
        start, end = window(now, days)
        return start <= moment <= end

    return _date_test(check)


def _test(condition: Condition) -> Test:
    op, operand = condition.op, condition.operand
    if op is Op.EQUALS:
        same = _same(cast(str | float | bool, operand))
        return lambda value, _now: same(value)
    if op is Op.IN:
        options = tuple(_same(item) for item in cast(tuple[str | float | bool, ...], operand))
        return lambda value, _now: any(option(value) for option in options)
    if op is Op.EXISTS:
        return lambda _value, _now: True
    if op in _TEXT:
        return _text_test(_TEXT[op](cast(str, operand)))
    if op is Op.REGEX:
        return _text_test(compile_matcher(cast(Pattern, operand).spelling))
    if op in _NUMBER:
        return _number_test(_NUMBER[op](cast(float, operand)))
    if op is Op.BETWEEN:
        low, high = cast(tuple[float, float], operand)
        return _number_test(lambda number: low <= number <= high)
    if op is Op.WITHIN:
        return _within(cast(int, operand))
    limit = cast(datetime, operand)
    if op is Op.BEFORE:
        return _date_test(lambda moment, _now: moment < limit)
    return _date_test(lambda moment, _now: moment > limit)


_TEXT: dict[Op, Callable[[str], Callable[[str], bool]]] = {
    Op.BEGINS: lambda prefix: lambda text: text.startswith(prefix),
    Op.ENDS: lambda suffix: lambda text: text.endswith(suffix),
    Op.CONTAINS: lambda part: lambda text: part in text,
}
_NUMBER: dict[Op, Callable[[float], Callable[[float], bool]]] = {
    Op.GT: lambda limit: lambda number: number > limit,
    Op.GTE: lambda limit: lambda number: number >= limit,
    Op.LT: lambda limit: lambda number: number < limit,
    Op.LTE: lambda limit: lambda number: number <= limit,
}
