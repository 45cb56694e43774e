"""Criteria JSON -> the typed tree, or Invalid naming every offending criterion."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from patron.domain.criteria.dates import MAX_DAYS, parse_date
from patron.domain.criteria.regex import PatternError, compile_pattern
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, NotOf, Op, Operand, Path
from patron.domain.errors import Invalid, Problem

MAX_CONDITIONS = 100
MAX_DEPTH = 6
MAX_TEXT = 1000
MAX_LIST = 1000
MAX_PATH_DEPTH = 8
_SEGMENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]{0,63}")

# Names accepted besides ``<op>`` and ``n<op>``.
ALIASES: dict[str, tuple[Op, bool]] = {
    "eq": (Op.EQUALS, False),
    "neq": (Op.EQUALS, True),
    "ne": (Op.EQUALS, True),
    "missing": (Op.EXISTS, True),
}
OPERATORS: dict[str, tuple[Op, bool]] = {
    **{op.value: (op, False) for op in Op},
    **{"n" + op.value: (op, True) for op in Op},
    **ALIASES,
}

FieldResolver = Callable[[str], Path]


class FieldRefused(ValueError):
    """A resolver refuses the field; the message says why."""


def split_path(name: str) -> Path:
    """``a.b.c`` -> ``("a", "b", "c")``; each part a letter, ``_`` or ``$`` then word characters."""
    parts = tuple(name.split("."))
    if len(parts) > MAX_PATH_DEPTH or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise FieldRefused(
            f"must be up to {MAX_PATH_DEPTH} dot-separated names, each starting with a "
            "letter, '_' or '$'"
        )
    return parts


def parse(criteria: Any, *, fields: FieldResolver = split_path) -> Node:
    """Parse a criteria list (all must match) into a tree; raise Invalid on any problem."""
    problems: list[Problem] = []
    parser = _Parser(fields, problems)
    if not isinstance(criteria, list):
        raise Invalid.of([Problem("must be a list of criteria", "criteria")])
    node = parser.group(AllOf, criteria, "criteria", depth=0)
    if parser.count > MAX_CONDITIONS:
        problems.append(Problem(f"at most {MAX_CONDITIONS} conditions", "criteria"))
    if problems:
        raise Invalid.of(problems)
    return node


class _Parser:
    def __init__(self, fields: FieldResolver, problems: list[Problem]) -> None:
        self.fields = fields
        self.problems = problems
        self.count = 0

    def fail(self, where: str, message: str) -> None:
        self.problems.append(Problem(message, where))

    def group(self, kind: type[AllOf | AnyOf], items: Any, where: str, depth: int) -> Node:
        if not isinstance(items, list):
            self.fail(where, "must be a list of criteria")
            return kind(())
        if depth > MAX_DEPTH:
            self.fail(where, f"groups nest at most {MAX_DEPTH} deep")
            return kind(())
        return kind(tuple(self.node(item, f"{where}[{i}]", depth) for i, item in enumerate(items)))

    def node(self, item: Any, where: str, depth: int) -> Node:
        if not isinstance(item, Mapping):
            self.fail(where, "must be an object with field, op and value (or any/all/not)")
            return AllOf(())
        keys = set(item)
        for name, kind in (("all", AllOf), ("any", AnyOf)):
            if keys == {name}:
                return self.group(kind, item[name], f"{where}.{name}", depth + 1)
        if keys == {"not"}:
            inner = item["not"]
            inner = inner if isinstance(inner, list) else [inner]
            return NotOf(self.group(AllOf, inner, f"{where}.not", depth + 1))
        return self.condition(item, where)

    def condition(self, item: Mapping[str, Any], where: str) -> Node:
        self.count += 1
        extra = set(item) - {"field", "op", "value"}
        if extra:
            self.fail(where, f"unknown keys {sorted(extra)}; expected field, op and value")
        path = self.path(item.get("field"), f"{where}.field")
        op_name = item.get("op")
        if not isinstance(op_name, str) or op_name.lower() not in OPERATORS:
            self.fail(f"{where}.op", f"unknown operator {op_name!r}")
            return AllOf(())
        op, negated = OPERATORS[op_name.lower()]
        try:
            operand = OPERANDS[op](item.get("value"))
        except ValueError as error:
            self.fail(f"{where}.value", f"{op_name}: {error}")
            return AllOf(())
        return Condition(path, op, operand, negated)

    def path(self, name: Any, where: str) -> Path:
        if not isinstance(name, str) or not name:
            self.fail(where, "must be a non-empty string")
            return ("",)
        try:
            return self.fields(name)
        except FieldRefused as error:
            self.fail(where, f"{name!r} {error}")
            return ("",)


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
        raise ValueError(f"value must be a string of at most {MAX_TEXT} characters")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("value must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("value must be a finite number")
    return number


def _scalar(value: Any) -> str | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _text(value)
    try:
        return _number(value)
    except ValueError:
        raise ValueError("value must be a string, a number or a boolean") from None


def _scalars(value: Any) -> tuple[str | float | bool, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise ValueError(f"value must be a list of 1 to {MAX_LIST} strings, numbers or booleans")
    return tuple(_scalar(item) for item in value)


def _range(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("value must be a list of two numbers [low, high]")
    low, high = _number(value[0]), _number(value[1])
    if low > high:
        raise ValueError("value must be [low, high] with low <= high")
    return low, high


def _pattern(value: Any) -> Operand:
    try:
        return compile_pattern(_text(value))
    except PatternError as error:
        raise ValueError(f"invalid regular expression: {error}") from None


def _date(value: Any) -> Operand:
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError("value must be an ISO-8601 date or date-time (e.g. 2024-05-01T10:00Z)")
    return parsed


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ValueError(f"value must be a whole number of days, 0 to {MAX_DAYS}")
    return value


def _nothing(value: Any) -> None:
    if value not in (None, True, ""):
        raise ValueError("takes no value (omit it)")


OPERANDS: dict[Op, Callable[[Any], Operand]] = {
    Op.EQUALS: _scalar,
    Op.BEGINS: _text,
    Op.ENDS: _text,
    Op.CONTAINS: _text,
    Op.REGEX: _pattern,
    Op.IN: _scalars,
    Op.GT: _number,
    Op.GTE: _number,
    Op.LT: _number,
    Op.LTE: _number,
    Op.BETWEEN: _range,
    Op.EXISTS: _nothing,
    Op.BEFORE: _date,
    Op.AFTER: _date,
    Op.WITHIN: _days,
}
