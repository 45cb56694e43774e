"""The typed tree criteria parse into; both evaluators walk it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

Scalar = str | float | bool
Path = tuple[str, ...]


class Op(StrEnum):
    """The positive operators; each has a negation named ``n`` + its name."""

    EQUALS = "equals"
    BEGINS = "begins"
    ENDS = "ends"
    CONTAINS = "contains"
    REGEX = "regex"
    IN = "in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    EXISTS = "exists"
    BEFORE = "before"
    AFTER = "after"
    WITHIN = "within"


@dataclass(frozen=True, slots=True)
class Pattern:
    """A regular expression of the portable subset (see :mod:`.regex`)."""

    source: str  # as written
    spelling: str  # the same language as RE2 and PostgreSQL's ``~`` both read it
    # Plain text every match contains ("" if none): a cheap test before the regex.
    required: str = field(default="", compare=False)


Operand = Scalar | tuple[Scalar, ...] | tuple[float, float] | Pattern | datetime | int | None


@dataclass(frozen=True, slots=True)
class Condition:
    """``field op value``; ``negated`` is the ``n…`` form (exactly NOT the positive form)."""

    path: Path
    op: Op
    operand: Operand
    negated: bool = False


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class NotOf:
    item: Node


Node = Condition | AllOf | AnyOf | NotOf
