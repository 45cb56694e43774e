"""The SQL evaluator: a criteria tree as a boolean expression over a JSON column.

It must agree with the Python evaluator (``patron.domain.criteria``) on every
record, which a property test checks on both databases. Three things make
that hold:

* every condition is ``CASE WHEN <the value has the operator's JSON type>
  THEN <test> ELSE false END``: never NULL, so a negation is exactly ``NOT``
  (a missing field satisfies only negations) and PostgreSQL never casts a
  value of the wrong type (CASE fixes the evaluation order; AND does not);
* numbers compare as doubles, as in Python;
* SQLite has no regular expressions: ``patron_regexp`` (registered on every
  connection by :func:`register_sqlite_functions`) runs RE2, as the Python
  evaluator does, and PostgreSQL runs the same spelling with ``~``: matching
  time is linear in the text on all three (see ``patron.domain.criteria.regex``).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    false,
    func,
    not_,
    or_,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from patron.domain.criteria.dates import DATE_PATTERN, window
from patron.domain.criteria.matcher import Matcher, compile_matcher
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, NotOf, Op, Path, Pattern

Expr = ColumnElement[Any]
_ZONED = "(Z|[+-][0-9]{2}:[0-9]{2})$"


# Where a path's value lives: a JSON expression and the path inside it.
Locate = Callable[[Path], tuple[Expr, Path]]


def to_sql(
    node: Node,
    column: Expr | None,
    *,
    dialect: str,
    now: datetime,
    locate: Locate | None = None,
) -> ColumnElement[bool]:
    """``node`` as a WHERE clause over the JSON ``column`` (``now`` for ``within``).

    ``locate`` instead maps each path to its own JSON expression (a record
    spread over several columns, as a customer is) and the path inside it;
    an empty path means a plain text column, whose value is a string or null.
    """
    values: type[_Values] = _Postgres if dialect == "postgresql" else _Sqlite
    if locate is None:
        assert column is not None
        whole = column
        locate = lambda path: (whole, path)  # noqa: E731
    return _Compiler(values, locate, now).node(node)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a SQLite connection ``patron_regexp(pattern, text)``: an RE2 search."""
    dbapi_connection.create_function("patron_regexp", 2, _regexp, deterministic=True)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Matcher:
    return compile_matcher(pattern)


def _regexp(pattern: Any, value: Any) -> int | None:
    if not isinstance(pattern, str) or not isinstance(value, str):
        return None
    return 1 if _compiled(pattern)(value) else 0


class _Values(ABC):
    """How one dialect reads a value at a path, and its JSON type (one subclass each)."""

    STRING = "text"
    NUMBERS: tuple[str, ...] = ("integer", "real")

    def __init__(self, column: Expr, path: Path) -> None:
        self.column = column
        self.path = path

    @abstractmethod
    def type(self) -> Expr: ...

    @abstractmethod
    def text(self) -> Expr: ...

    @abstractmethod
    def number(self) -> Expr: ...

    @abstractmethod
    def is_boolean(self, expected: bool) -> Expr: ...

    def string_equals(self, expected: str) -> Expr | None:
        """Equality with a string in one JSON read, where the dialect allows (else None)."""
        return self.strings_in((expected,))

    def strings_in(self, options: tuple[str, ...]) -> Expr | None:
        """Equality with one of several strings in one read of the value's text, where
        the dialect's text of any other JSON value can equal none of them (else None)."""
        if not self.path or not all(map(self.only_a_string_reads_as, options)):
            return None
        test = self.text() == options[0] if len(options) == 1 else self.text().in_(options)
        return cast(Expr, func.coalesce(test, false()))

    def only_a_string_reads_as(self, text: str) -> bool:
        """Whether, of all JSON values, only the string ``text`` has ``text`` as its text."""
        return False

    @abstractmethod
    def regex(self, pattern: Pattern) -> Expr: ...

    @abstractmethod
    def date_test(self, compare: Callable[[Expr, Expr], Expr], limit: datetime) -> Expr: ...


class _Sqlite(_Values):
    def _path(self) -> str:
        return "$" + "".join(f'."{key}"' for key in self.path)

    def type(self) -> Expr:
        if not self.path:
            return _plain_type(self.column, self.STRING)
        return func.json_type(self.column, self._path())

    def text(self) -> Expr:
        if not self.path:
            return self.column
        return func.json_extract(self.column, self._path())

    def number(self) -> Expr:
        return sql_cast(self.text(), Float)

    def only_a_string_reads_as(self, text: str) -> bool:
        # json_extract gives text only for a JSON string, object or array
        # (numbers and booleans come out as numbers, null as NULL): text equal
        # to an operand that cannot be an object's or array's JSON is a string.
        return text[:1] not in ("[", "{")

    def is_boolean(self, expected: bool) -> Expr:
        return self.type() == ("true" if expected else "false")

    def regex(self, pattern: Pattern) -> Expr:
        return func.patron_regexp(pattern.spelling, self.text()) == 1

    def date_test(self, compare: Callable[[Expr, Expr], Expr], limit: datetime) -> Expr:
        value = self.text()
        day = func.substr(value, 1, 10)
        # date(x, "+0 days") rolls 2024-02-30 over to March; Python refuses it as a date.
        is_date = and_(
            func.patron_regexp(DATE_PATTERN, value) == 1, func.date(day, "+0 days") == day
        )
        limit = limit.astimezone(UTC)
        stamp = limit.strftime("%Y-%m-%d %H:%M:%S.") + f"{limit.microsecond // 1000:03d}"
        return case((is_date, compare(func.julianday(value), func.julianday(stamp))), else_=false())


class _Postgres(_Values):
    STRING = "string"
    NUMBERS = ("number",)

    def _path(self) -> Expr:
        return bindparam(None, list(self.path), type_=ARRAY(Text))

    def type(self) -> Expr:
        if not self.path:
            return _plain_type(self.column, self.STRING)
        return func.jsonb_typeof(self.column.op("#>")(self._path()))

    def text(self) -> Expr:
        if not self.path:
            return self.column
        return self.column.op("#>>", return_type=Text)(self._path())

    def number(self) -> Expr:
        return sql_cast(self.text(), Float(precision=53))

    def string_equals(self, expected: str) -> Expr | None:
        if not self.path:
            return None
        fast = self.strings_in((expected,))
        if fast is not None:
            return fast
        # jsonb equality is equality of type and value: one read, no guard.
        found = self.column.op("#>")(self._path())
        return cast(Expr, func.coalesce(found == bindparam(None, expected, type_=JSONB), false()))

    def only_a_string_reads_as(self, text: str) -> bool:
        # ``#>>`` prints any JSON value as text, and text is read 2-3 times as
        # fast as jsonb is compared. A number prints as digits or "-…", a
        # boolean as true/false, an object or array as {…}/[…], null as NULL:
        # text equal to an operand none of those can print as is a string.
        return text[:1] not in _NOT_ONLY_STRINGS and text not in ("true", "false")

    def is_boolean(self, expected: bool) -> Expr:
        return and_(self.type() == "boolean", self.text() == ("true" if expected else "false"))

    def regex(self, pattern: Pattern) -> Expr:
        return self.text().op("~", return_type=Boolean)(pattern.spelling)

    def date_test(self, compare: Callable[[Expr, Expr], Expr], limit: datetime) -> Expr:
        value = self.text()
        day = func.substr(value, 1, 10)
        # A cast of 2024-02-30 would fail the whole query: check the day first.
        first = sql_cast(func.concat(func.substr(value, 1, 8), "01"), Date)
        offset = sql_cast(func.substr(value, 9, 2), Integer) - 1
        rebuilt = func.to_char(first + offset, "YYYY-MM-DD")
        zoned = value.op("~", return_type=Boolean)(_ZONED)
        moment = case(
            (zoned, sql_cast(value, DateTime(timezone=True))),
            else_=func.timezone("UTC", sql_cast(value, DateTime)),
        )
        limit_param = bindparam(None, limit, type_=DateTime(timezone=True))
        valid = case((rebuilt == day, compare(moment, limit_param)), else_=false())
        return case((value.op("~", return_type=Boolean)(DATE_PATTERN), valid), else_=false())


_NOT_ONLY_STRINGS = frozenset("-0123456789[{")


class _Compiler:
    def __init__(self, values: type[_Values], locate: Locate, now: datetime) -> None:
        self.values = values
        self.locate = locate
        self.now = now

    def node(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, AllOf):
            return and_(true(), *(self.node(item) for item in node.items))
        if isinstance(node, AnyOf):
            return or_(false(), *(self.node(item) for item in node.items))
        if isinstance(node, NotOf):
            return not_(self.node(node.item))
        expression = self.condition(node)
        return not_(expression) if node.negated else expression

    def condition(self, condition: Condition) -> ColumnElement[bool]:
        values = self.values(*self.locate(condition.path))
        op, operand = condition.op, condition.operand
        if op is Op.EXISTS:
            return func.coalesce(values.type(), "null") != "null"
        if op is Op.EQUALS:
            return self.equals(values, cast(str | float | bool, operand))
        if op is Op.IN:
            options = cast(tuple[str | float | bool, ...], operand)
            if all(isinstance(option, str) for option in options):
                strings = values.strings_in(cast(tuple[str, ...], options))
                if strings is not None:
                    return strings
            return or_(false(), *(self.equals(values, option) for option in options))
        if op in (Op.BEFORE, Op.AFTER, Op.WITHIN):
            return self.date(values, op, operand)
        return self.guarded(values, op, operand)

    def equals(self, values: _Values, expected: str | float | bool) -> ColumnElement[bool]:
        if isinstance(expected, bool):
            return _when(values.is_boolean(expected), true())
        if isinstance(expected, str):
            direct = values.string_equals(expected)
            if direct is not None:
                return direct
            return _when(values.type() == values.STRING, values.text() == expected)
        return _when(values.type().in_(values.NUMBERS), values.number() == expected)

    def guarded(self, values: _Values, op: Op, operand: Any) -> ColumnElement[bool]:
        if op in _NUMBER_TESTS:
            test = _NUMBER_TESTS[op](values.number(), operand)
            return _when(values.type().in_(values.NUMBERS), test)
        text = values.text()
        tests: dict[Op, Callable[[], Expr]] = {
            Op.BEGINS: lambda: func.substr(text, 1, len(operand)) == operand,
            Op.ENDS: lambda: and_(
                func.length(text) >= len(operand),
                func.substr(text, func.length(text) - len(operand) + 1) == operand,
            ),
            Op.CONTAINS: lambda: _position(values, text, operand) > 0,
            Op.REGEX: lambda: values.regex(operand),
        }
        return _when(values.type() == values.STRING, tests[op]())

    def date(self, values: _Values, op: Op, operand: Any) -> ColumnElement[bool]:
        if op is Op.WITHIN:
            start, end = window(self.now, cast(int, operand))
            test = and_(
                values.date_test(lambda v, limit: v >= limit, start),
                values.date_test(lambda v, limit: v <= limit, end),
            )
        elif op is Op.BEFORE:
            test = values.date_test(lambda v, limit: v < limit, operand)
        else:
            test = values.date_test(lambda v, limit: v > limit, operand)
        return _when(values.type() == values.STRING, test)


def _plain_type(column: Expr, string: str) -> Expr:
    """The JSON type of a plain text column's value: a string, or null."""
    return case((column.is_(None), "null"), else_=string)


def _when(guard: Expr, test: Expr) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], case((guard, test), else_=false()))


def _position(values: _Values, text: Expr, part: str) -> Expr:
    if isinstance(values, _Postgres):
        return func.strpos(text, part)
    return func.instr(text, part)


_NUMBER_TESTS: dict[Op, Callable[[Expr, Any], Expr]] = {
    Op.GT: lambda value, limit: value > limit,
    Op.GTE: lambda value, limit: value >= limit,
    Op.LT: lambda value, limit: value < limit,
    Op.LTE: lambda value, limit: value <= limit,
    Op.BETWEEN: lambda value, bounds: and_(value >= bounds[0], value <= bounds[1]),
}
