"""Voucherify's segment filter language, parsed once into the shared criteria tree.

A filter holds conditions on the profile document (:mod:`.document`), on
behaviour (``events.<name>``) and on identities; see :class:`SegmentRule`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from patron.domain.criteria.dates import MAX_DAYS as MAX_DATE_DAYS
from patron.domain.criteria.dates import parse_date
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, Op
from patron.domain.errors import Invalid, Problem
from patron.domain.people.profiles import IdentityKind
from patron.domain.segments.customers.document import ADDRESS_FIELDS, DATE_FIELDS, PROFILE_FIELDS

MAX_NAME = 200  # a segment's name, an event name in a filter
MAX_CONDITIONS = 100

# Voucherify operator -> (criteria operator, negated, how many values it takes).
_OPERATORS: dict[str, tuple[Op, bool, str]] = {
    "$is": (Op.EQUALS, False, "one"),
    "$is_not": (Op.EQUALS, True, "one"),
    "$in": (Op.IN, False, "many"),
    "$not_in": (Op.IN, True, "many"),
    "$has_value": (Op.EXISTS, False, "none"),
    "$is_unknown": (Op.EXISTS, True, "none"),
    "$starts_with": (Op.BEGINS, False, "text"),
    "$ends_with": (Op.ENDS, False, "text"),
    "$contains": (Op.CONTAINS, False, "text"),
    "$not_contain": (Op.CONTAINS, True, "text"),
    "$more_than": (Op.GT, False, "number"),
    "$more_than_equal": (Op.GTE, False, "number"),
    "$less_than": (Op.LT, False, "number"),
    "$less_than_equal": (Op.LTE, False, "number"),
    "$after": (Op.AFTER, False, "date"),
    "$before": (Op.BEFORE, False, "date"),
    "$less_than_ago": (Op.WITHIN, False, "days"),
    "$more_than_ago": (Op.WITHIN, True, "days"),
}
_JUNCTIONS: dict[str, type[AllOf] | type[AnyOf]] = {"and": AllOf, "or": AnyOf}


MAX_DAYS = 3650
# A count of events a filter compares with: any more is no count a store can hold.
MAX_COUNT = 2**31 - 1
_COUNT_OPERATORS = {
    "$is": Op.EQUALS,
    "$more_than": Op.GT,
    "$more_than_equal": Op.GTE,
    "$less_than": Op.LT,
    "$less_than_equal": Op.LTE,
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """ "Did the track event ``name`` (with ``where`` true of it) ``op count`` times in the
    last ``days`` days (ever, when None)": ``events.<name>`` in a filter."""

    name: str
    op: Op
    count: int
    days: int | None = None
    where: Node | None = None  # over the event document: paths start with "properties"

    def holds(self, count: int) -> bool:
        limit = self.count
        return {
            Op.EQUALS: count == limit,
            Op.GT: count > limit,
            Op.GTE: count >= limit,
            Op.LT: count < limit,
            Op.LTE: count <= limit,
        }[self.op]

    def since(self, now: datetime) -> datetime | None:
        return None if self.days is None else now - timedelta(days=self.days)


# Identity fields a filter may name, and the identities they stand for.
IDENTITY_FIELDS = {"identities.anonymous_id": IdentityKind.ANONYMOUS_ID}
# Operators for identities: on text only; the negated ones mean "no identity …".
_IDENTITY_OPERATORS = frozenset(
    {
        "$is",
        "$is_not",
        "$in",
        "$not_in",
        "$has_value",
        "$is_unknown",
        "$starts_with",
        "$ends_with",
        "$contains",
        "$not_contain",
    }
)


@dataclass(frozen=True, slots=True)
class IdentityMatch:
    """ "Has an identity of ``kind`` whose value satisfies ``where``" (any, when None), or
    with ``present`` False "has none": ``identities.anonymous_id`` in a filter.

    A customer holds any number of anonymous ids, so a condition asks about
    the set: ``$is`` is "one of them is", ``$is_not`` "none of them is".
    """

    kind: IdentityKind
    where: Node | None  # over the identity document {"value": …}
    present: bool = True

    def holds(self, count: int) -> bool:
        return count > 0 if self.present else count == 0


# A condition answered by counting rows about the customer (events, identities).
Clause = Behaviour | IdentityMatch


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A filter: conditions on the profile, and on behaviour and identities, all of which hold."""

    profile: Node
    behaviours: tuple[Behaviour, ...] = ()
    identities: tuple[IdentityMatch, ...] = ()

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return (*self.behaviours, *self.identities)

    def date_windows(self) -> set[tuple[str, int]]:
        """``(field, days)`` of every relative-date condition on the profile."""
        return {
            (c.path[0], int(cast(int, c.operand)))
            for c in _conditions([self.profile])
            if c.op is Op.WITHIN
        }


def criteria_from_filter(document: Any) -> Node:
    """The profile part of a filter (which must have no behavioural or identity conditions)."""
    rule = parse_filter(document)
    if rule.clauses:
        raise Invalid("this filter has behavioural or identity conditions")
    return rule.profile


def parse_filter(document: Any) -> SegmentRule:
    """Voucherify's segment filter as a rule, or Invalid naming every problem."""
    problems: list[Problem] = []
    if not isinstance(document, dict) or not document:
        raise Invalid.of([Problem("must be an object of field conditions", "filter")])
    junction = _junction(document.get("junction", "and"), "filter.junction", problems)
    parts: list[Node] = []
    behaviours: list[Behaviour] = []
    identities: list[IdentityMatch] = []
    for field, spec in document.items():
        if field == "junction":
            continue
        where = f"filter.{field}"
        if field.startswith("events."):
            behaviour = _behaviour(field.removeprefix("events."), spec, where, problems)
            if behaviour is not None:
                behaviours.append(behaviour)
            continue
        if field.startswith("identities."):
            identities.extend(_identity(field, spec, where, problems))
            continue
        node = _field(_path(field, where, problems), spec, where, problems)
        if node is not None:
            parts.append(node)
    fields = [field for field in document if field != "junction"]
    counted_rows = any(field.startswith(("events.", "identities.")) for field in fields)
    if counted_rows and junction is AnyOf and len(fields) > 1:
        problems.append(
            Problem(
                'combines behavioural and identity conditions with "and" only', "filter.junction"
            )
        )
    counted = sum(1 for _ in _conditions(parts)) + len(behaviours) + len(identities)
    if counted > MAX_CONDITIONS:
        problems.append(Problem(f"has more than {MAX_CONDITIONS} conditions", "filter"))
    if not parts and not behaviours and not identities and not problems:
        problems.append(Problem("names no field", "filter"))
    if problems:
        raise Invalid.of(problems)
    profile = junction(tuple(parts)) if parts else AllOf(())
    return SegmentRule(profile, tuple(behaviours), tuple(identities))


def _field(path: tuple[str, ...], spec: Any, where: str, problems: list[Problem]) -> Node | None:
    """One field's ``{"conditions": {…}, "junction": …}`` as a node."""
    if not isinstance(spec, dict) or not isinstance(spec.get("conditions"), dict):
        problems.append(Problem('must be {"conditions": {"$operator": [values]}}', where))
        return None
    inner = _junction(spec.get("junction", "and"), f"{where}.junction", problems)
    conditions = [
        _condition(path, operator, values, f"{where}.conditions.{operator}", problems)
        for operator, values in spec["conditions"].items()
    ]
    if not conditions:
        problems.append(Problem("names no condition", where))
    return inner(tuple(c for c in conditions if c is not None))


def _behaviour(name: str, spec: Any, where: str, problems: list[Problem]) -> Behaviour | None:
    if not name or len(name) > MAX_NAME:
        problems.append(Problem(f"needs an event name of 1 to {MAX_NAME} characters", where))
        return None
    if not isinstance(spec, dict) or not isinstance(spec.get("conditions"), dict):
        problems.append(Problem('must be {"conditions": {"$more_than_equal": [n]}, …}', where))
        return None
    found = len(problems)
    problems.extend(
        Problem("is not a behavioural condition property", f"{where}.{key}")
        for key in sorted(set(spec) - {"conditions", "days", "properties"})
    )
    counted = _count_condition(spec["conditions"], f"{where}.conditions", problems)
    days = spec.get("days")
    if days is not None and not (_is_whole(days) and 1 <= days <= MAX_DAYS):
        problems.append(
            Problem(f"must be a whole number of days, 1 to {MAX_DAYS}", where + ".days")
        )
    properties = spec.get("properties")
    where_node = None
    if properties is not None:
        where_node = _properties(properties, f"{where}.properties", problems)
    if len(problems) > found or counted is None:
        return None
    return Behaviour(name, counted[0], counted[1], days, where_node)


def _identity(field: str, spec: Any, where: str, problems: list[Problem]) -> list[IdentityMatch]:
    """``identities.anonymous_id``: one match per operator, all of which must hold."""
    kind = IDENTITY_FIELDS.get(field)
    if kind is None:
        problems.append(Problem(f"is not an identity field: {', '.join(IDENTITY_FIELDS)}", where))
        return []
    if not isinstance(spec, dict) or not isinstance(spec.get("conditions"), dict):
        problems.append(Problem('must be {"conditions": {"$operator": [values]}}', where))
        return []
    operators = spec["conditions"]
    if not operators:
        problems.append(Problem("names no condition", where))
    if len(operators) > 1 and str(spec.get("junction", "and")).lower() != "and":
        problems.append(Problem('combines identity conditions with "and" only', where))
    matches = []
    for operator, values in operators.items():
        at = f"{where}.conditions.{operator}"
        if operator not in _IDENTITY_OPERATORS:
            supported = ", ".join(sorted(_IDENTITY_OPERATORS))
            problems.append(Problem(f"is not an operator identities support: {supported}", at))
            continue
        node = _condition(("value",), operator, values, at, problems)
        if not isinstance(node, Condition):
            continue
        # The set semantics: a negated operator is "no identity satisfies the positive one".
        present = not node.negated
        positive = Condition(node.path, node.op, node.operand)
        matches.append(IdentityMatch(kind, None if node.op is Op.EXISTS else positive, present))
    return matches


def _count_condition(
    conditions: dict[str, Any], where: str, problems: list[Problem]
) -> tuple[Op, int] | None:
    """``{"$more_than_equal": [3]}``: the comparison and the number of times."""
    operator = next(iter(conditions), "")
    values = conditions.get(operator)
    count = values[0] if isinstance(values, list) and len(values) == 1 else values
    if len(conditions) != 1 or operator not in _COUNT_OPERATORS:
        problems.append(Problem(f"needs one of {', '.join(_COUNT_OPERATORS)}", where))
        return None
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        problems.append(Problem(f"needs a whole number of times, 0 to {MAX_COUNT:,}", where))
        return None
    return _COUNT_OPERATORS[operator], count


def _properties(properties: Any, where: str, problems: list[Problem]) -> Node | None:
    """Conditions on the counted events' properties, in the filter's own syntax."""
    if not isinstance(properties, dict) or not properties:
        problems.append(Problem("must be an object of property conditions", where))
        return None
    junction = _junction(properties.get("junction", "and"), f"{where}.junction", problems)
    nodes = []
    for key, key_spec in properties.items():
        if key == "junction":
            continue
        keys = tuple(key.split("."))
        if not all(keys) or len(keys) > 6:
            problems.append(Problem("is not a property path", f"{where}.{key}"))
            continue
        node = _field(("properties", *keys), key_spec, f"{where}.{key}", problems)
        if node is not None:
            nodes.append(node)
    return junction(tuple(nodes))


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _conditions(nodes: Iterable[Node]) -> Iterable[Condition]:
    for node in nodes:
        if isinstance(node, Condition):
            yield node
        elif isinstance(node, AllOf | AnyOf):
            yield from _conditions(node.items)


def _junction(value: Any, where: str, problems: list[Problem]) -> type[AllOf] | type[AnyOf]:
    if isinstance(value, str) and value.lower() in _JUNCTIONS:
        return _JUNCTIONS[value.lower()]
    problems.append(Problem('must be "and" or "or"', where))
    return AllOf


def _path(field: str, where: str, problems: list[Problem]) -> tuple[str, ...]:
    head, _, rest = field.partition(".")
    if head in PROFILE_FIELDS and not rest:
        return (head,)
    if head == "address" and rest in ADDRESS_FIELDS:
        return ("address", rest)
    if head == "metadata" and rest and all(rest.split(".")) and rest.count(".") < 6:
        return ("metadata", *rest.split("."))
    problems.append(
        Problem(
            "is not a field segments can use: id, source_id, name, email, phone, birthdate,"
            " description, created_at, updated_at, address.<part>, metadata.<key>,"
            " identities.anonymous_id or events.<name>",
            where,
        )
    )
    return ("",)


def _condition(
    path: tuple[str, ...], operator: str, values: Any, where: str, problems: list[Problem]
) -> Node | None:
    known = _OPERATORS.get(operator)
    if known is None:
        problems.append(Problem(f"is not an operator Patron supports: {_supported()}", where))
        return None
    op, negated, arity = known
    listed = values if isinstance(values, list) else [values]
    if arity == "none":
        return Condition(path, op, None, negated)
    if not listed or len(listed) > 1000:
        problems.append(Problem("needs 1 to 1,000 values", where))
        return None
    if not all(isinstance(v, str | int | float | bool) for v in listed):
        problems.append(Problem("values must be strings, numbers or booleans", where))
        return None
    if arity == "many" or (arity == "one" and len(listed) > 1):
        operand = tuple(float(v) if _is_number(v) else v for v in listed)
        return Condition(path, Op.IN, operand, negated)
    value = listed[0]
    if arity == "number":
        if not _is_number(value):
            problems.append(Problem("needs a number", where))
            return None
        return Condition(path, op, float(value), negated)
    if arity == "days":
        return _relative_date(path, value, negated, where, problems)
    if arity == "date":
        moment = parse_date(value) if isinstance(value, str) else None
        if moment is None:
            problems.append(Problem("needs an ISO 8601 date or date-time", where))
            return None
        return Condition(path, op, moment, negated)
    if arity == "text" and not isinstance(value, str):
        problems.append(Problem("needs a string", where))
        return None
    return Condition(path, op, float(value) if _is_number(value) else value, negated)


def _relative_date(
    path: tuple[str, ...], days: Any, more: bool, where: str, problems: list[Problem]
) -> Node | None:
    """``$less_than_ago: [N]``: within the last N days; ``$more_than_ago``: longer ago."""
    if len(path) != 1 or path[0] not in DATE_FIELDS:
        problems.append(Problem(f"applies to {', '.join(sorted(DATE_FIELDS))} only", where))
        return None
    if not _is_whole(days) or not 1 <= days <= MAX_DATE_DAYS:
        problems.append(Problem(f"needs a whole number of days, 1 to {MAX_DATE_DAYS}", where))
        return None
    within = Condition(path, Op.WITHIN, days)
    if not more:
        return within
    # A date at all (within the last century), and not within the last N days.
    return AllOf(
        (Condition(path, Op.WITHIN, MAX_DATE_DAYS), Condition(path, Op.WITHIN, days, True))
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _supported() -> str:
    return ", ".join(_OPERATORS)
