"""Talang's values: their kinds, for the compile-time check, and their conversions.

At run time a value is one of: ``Decimal`` (every number: rules never see a
float), ``str``, ``bool``, an aware ``datetime``, a list (``tuple`` or
``list``), a mapping or record (``Mapping``, a cart item, a coupon…), an
effect (:class:`~patron.domain.promotions.talang.intents.Intent`) or ``None``.

At compile time each expression has a :class:`Shape`: the set of kinds it
may produce (a ``Flag``), and for records their known fields, for lists the
shape of their items. An argument whose shape shares no kind with what the
function accepts is refused before anything runs; anything the compiler
cannot know (an attribute's type) is checked when it is read.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import Any

from patron.domain.promotions.talang.errors import EvaluationError

# Every sum, product and quotient of a rule runs in this context, never the
# thread's: 28 significant digits, ties to even, and errors for division by
# zero or overflow (they raise, so ``catch`` can take over).
ARITHMETIC = Context(prec=28, traps=[DivisionByZero, InvalidOperation, Overflow])


class Kind(enum.Flag):
    DECIMAL = enum.auto()
    STRING = enum.auto()
    BOOLEAN = enum.auto()
    TIME = enum.auto()
    LIST = enum.auto()
    MAP = enum.auto()
    NULL = enum.auto()
    EFFECT = enum.auto()


VALUE = Kind.DECIMAL | Kind.STRING | Kind.BOOLEAN | Kind.TIME | Kind.LIST | Kind.MAP | Kind.NULL
ATOM = Kind.DECIMAL | Kind.STRING | Kind.BOOLEAN | Kind.TIME
ANY = VALUE | Kind.EFFECT

KIND_NAMES = {
    Kind.DECIMAL: "a number",
    Kind.STRING: "a string",
    Kind.BOOLEAN: "a boolean",
    Kind.TIME: "a time",
    Kind.LIST: "a list",
    Kind.MAP: "a record",
    Kind.NULL: "nothing",
    Kind.EFFECT: "an effect",
}


def kind_names(kind: Kind) -> str:
    if kind & VALUE == VALUE:
        return "any value"
    names = [name for member, name in KIND_NAMES.items() if member & kind]
    return " or ".join(names) if names else "nothing"


@dataclass(frozen=True, slots=True)
class Field:
    """A named field of a record: its shape and how to read it from the record."""

    shape: Shape
    read: Callable[[Any], Any]
    # The Python attribute ``read`` returns as it is, if that is all it does: a path of
    # such fields compiles to one ``operator.attrgetter`` (see ``paths.path_runner``).
    attribute: str | None = None


def attribute(shape: Shape, name: str) -> Field:
    """A field that is the record's Python attribute ``name``, unchanged."""
    return Field(shape, operator.attrgetter(name), name)


@dataclass(frozen=True, slots=True)
class Shape:
    """What the compiler knows about an expression's value."""

    kind: Kind
    # A record's fields (None: a free mapping, any key).
    fields: Mapping[str, Field] | None = None
    # The shape of a free mapping's values, or of a list's items (None: unknown).
    inner: Shape | None = None

    def item(self) -> Shape:
        return self.inner if self.inner is not None else UNKNOWN


UNKNOWN = Shape(VALUE)
DECIMAL = Shape(Kind.DECIMAL)
STRING = Shape(Kind.STRING)
BOOLEAN = Shape(Kind.BOOLEAN)
TIME = Shape(Kind.TIME)
EFFECT = Shape(Kind.EFFECT)
NULL = Shape(Kind.NULL)
LIST = Shape(Kind.LIST)
FREE_MAP = Shape(Kind.MAP)


def list_of(item: Shape) -> Shape:
    return Shape(Kind.LIST, inner=item)


def record(fields: Mapping[str, Field]) -> Shape:
    return Shape(Kind.MAP, fields=fields)


def map_of(values: Shape) -> Shape:
    return Shape(Kind.MAP, inner=values)


# -- run time ------------------------------------------------------------------------------


def kind_of(value: Any) -> Kind:
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, Decimal | int | float):
        return Kind.DECIMAL
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, datetime):
        return Kind.TIME
    if value is None:
        return Kind.NULL
    if isinstance(value, list | tuple):
        return Kind.LIST
    if getattr(value, "is_intent", False):
        return Kind.EFFECT
    return Kind.MAP


def normalize(value: Any) -> Any:
    """A value read from outside (an attribute, a JSON payload) as rules see it."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, list | tuple):
        return tuple(normalize(item) for item in value)
    return value


def number(value: int | float) -> Decimal:
    # Through str: 0.1 is the decimal 0.1, not the binary float's expansion.
    result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if not result.is_finite():
        raise EvaluationError(f"{value!r} is not a finite number")
    return result


def parse_number(text: str) -> Decimal | None:
    try:
        result = Decimal(text.strip())
    except InvalidOperation:
        return None
    return result if result.is_finite() and text.strip() else None


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 date-time (a bare date is its midnight, UTC); None if ``text`` is not one."""
    if not 10 <= len(text) <= 40 or not text[:4].isdigit() or text[4:5] != "-":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_decimal(value: Any) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, str) and (parsed := parse_number(value)) is not None:
        return parsed
    raise EvaluationError(f"expected a number, got {show(value)}")


def as_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise EvaluationError(f"expected a boolean, got {show(value)}")


def as_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise EvaluationError(f"expected a string, got {show(value)}")


def as_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str) and (parsed := parse_time(value)) is not None:
        return parsed
    raise EvaluationError(f"expected a time, got {show(value)}")


def as_list(value: Any) -> Sequence[Any]:
    if isinstance(value, list | tuple):
        return value
    raise EvaluationError(f"expected a list, got {show(value)}")


def to_text(value: Any) -> str:
    """``toString``: a value as a string, numbers without exponent or trailing zeros."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return value
    raise EvaluationError(f"cannot turn {show(value)} into a string")


def format_decimal(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show(value: Any) -> str:
    """A value as a failure reason quotes it: short, and never the whole cart."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, Decimal | bool | datetime):
        return to_text(value)
    if value is None:
        return "nothing"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, int | float):
        return str(value)
    return kind_names(kind_of(value))
