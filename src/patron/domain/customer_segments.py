"""Customer segments: sets of customers, static or following a filter.

Voucherify's three kinds: a **static** segment is an explicit list of
customers; an **auto-update** segment holds the customers whose profile
matches its filter and records ``customer.segment.entered``/``left`` as they
come and go; a **passive** one follows its filter without those records.

A filter is Voucherify's syntax, translated once into the shared criteria
tree, over a customer's *profile document* (:func:`profile_document`)::

    {"junction": "and",
     "metadata.tier": {"conditions": {"$is": ["gold"]}},
     "address.city": {"conditions": {"$in": ["Paris", "Rome"]}, "junction": "or"}}

Besides the profile, a filter may ask about behaviour (``events.<name>``: how
many such track events, in a window) and identities
(``identities.anonymous_id``: one of the customer's anonymous ids, or none);
those are answered by counting rows in SQL (:data:`Clause`).

Membership is kept live: creating a segment fills it with one set-based SQL
statement (the store's backfill); every later change of a profile — through
the customers API, a bulk job or the tracking API — re-evaluates that
customer against the workspace's compiled segments, in Python, in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from patron.domain.activity import Activity, ActivityType, new_activity
from patron.domain.background import BackgroundLoop
from patron.domain.criteria.dates import MAX_DAYS as MAX_DATE_DAYS
from patron.domain.criteria.dates import parse_date, to_millisecond
from patron.domain.criteria.first_match import compile_all_matches
from patron.domain.criteria.tree import AllOf, AnyOf, Condition, Node, Op
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.profiles import IdentityKind, Profile

if TYPE_CHECKING:
    from patron.domain.ports import EventRecord, Store, Unit

MAX_STATIC_MEMBERS = 20_000  # Voucherify's bound for a static segment
MAX_NAME = 200
MAX_CONDITIONS = 100


class SegmentType(StrEnum):
    STATIC = "static"
    AUTO_UPDATE = "auto-update"
    PASSIVE = "passive"


@dataclass(frozen=True, slots=True)
class CustomerSegment:
    id: str
    workspace_id: str
    name: str
    type: SegmentType
    filter: dict[str, Any] | None  # as the client sent it (None: static)
    created_at: datetime
    updated_at: datetime

    swept_at: datetime | None = None  # the time sweep's last run over this segment

    def rule(self) -> SegmentRule | None:
        return None if self.filter is None else parse_filter(self.filter)

    @property
    def window_days(self) -> int | None:
        """The longest time window of its conditions (None: time alone changes nothing)."""
        rule = self.rule()
        if rule is None:
            return None
        days = [b.days for b in rule.behaviours if b.days]
        days += [days for _, days in rule.date_windows()]
        return max(days) if days else None


# -- the profile document and filters ------------------------------------------------

# Fields a filter may name; ``metadata.…`` and ``address.…`` name parts of those.
PROFILE_FIELDS = frozenset(
    {
        "id",
        "source_id",
        "name",
        "email",
        "phone",
        "birthdate",
        "description",
        "created_at",
        "updated_at",
    }
)
# Fields relative dates ($less_than_ago, $more_than_ago) apply to: the sweep
# finds the customers whose date crossed a window's edge through an index.
DATE_FIELDS = frozenset({"birthdate", "created_at", "updated_at"})
ADDRESS_FIELDS = ("city", "state", "line_1", "line_2", "country", "postal_code")
_SEGMENT_ADDRESS_NAMES = {"line_1": "street", "postal_code": "postalCode"}


def profile_document(profile: Profile) -> dict[str, Any]:
    """The record filters are evaluated against (the store builds the same one in SQL)."""
    address = profile.address or {}
    return {
        "id": profile.id,
        "source_id": profile.external_id,
        "name": profile.name,
        "email": profile.email,
        "phone": profile.phone,
        "birthdate": profile.birthdate,
        "description": profile.description,
        "address": {part: address_part(address, part) for part in ADDRESS_FIELDS},
        "metadata": profile.attributes,
        "created_at": _stamp(profile.created_at),
        "updated_at": _stamp(profile.updated_at),
    }


def _stamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond: the date format criteria compare."""
    return to_millisecond(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def address_part(address: Mapping[str, Any], part: str) -> Any:
    """A Voucherify address part, read from either spelling Patron may hold."""
    value = address.get(part)
    if value is None and part in _SEGMENT_ADDRESS_NAMES:
        value = address.get(_SEGMENT_ADDRESS_NAMES[part])
    return value


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
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        problems.append(Problem("needs a whole number of times, 0 or more", where))
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


# -- live membership -----------------------------------------------------------------


# How many of the rows a clause counts (events, identities) each customer has:
# (clause, customer ids) -> counts, absent meaning none.
Counts = Callable[[Clause, Sequence[str]], Mapping[str, int]]


def _nothing_counted(_clause: Clause, _customer_ids: Sequence[str]) -> Mapping[str, int]:
    return {}


class Membership:
    """A workspace's filter segments, compiled once into one function; re-evaluates customers."""

    def __init__(self, segments: Iterable[CustomerSegment]) -> None:
        ruled = [(s, rule) for s in segments if (rule := s.rule()) is not None]
        self.segments = [segment for segment, _ in ruled]
        self.rules = [rule for _, rule in ruled]
        self._matches = compile_all_matches([rule.profile for rule in self.rules])
        # Track events that can change a membership by being recorded.
        self.event_names = frozenset(b.name for rule in self.rules for b in rule.behaviours)
        # Whether gaining (or losing) an identity can change a membership.
        self.asks_identities = any(rule.identities for rule in self.rules)

    def __bool__(self) -> bool:
        return bool(self.segments)

    def matching(
        self, profile: Profile, now: datetime, counts: Counts = _nothing_counted
    ) -> set[str]:
        """The ids of the filter segments the profile matches."""
        return self._matching([profile], now, counts)[profile.id]

    def _matching(
        self, profiles: Sequence[Profile], now: datetime, counts: Counts
    ) -> dict[str, set[str]]:
        if not self.segments:
            return {profile.id: set() for profile in profiles}
        # The profile conditions first, in Python; then, only for the customers
        # and segments still in question, one count query per behaviour or identity clause.
        candidates = {p.id: self._matches(profile_document(p), now) for p in profiles}
        asked: dict[Clause, set[str]] = {}
        for customer_id, indexes in candidates.items():
            for index in indexes:
                for clause in self.rules[index].clauses:
                    asked.setdefault(clause, set()).add(customer_id)
        counted = {c: counts(c, sorted(ids)) for c, ids in asked.items()}
        return {
            customer_id: {
                self.segments[index].id
                for index in indexes
                if all(c.holds(counted[c].get(customer_id, 0)) for c in self.rules[index].clauses)
            }
            for customer_id, indexes in candidates.items()
        }

    def acting_customers(self, events: Iterable[EventRecord]) -> set[str]:
        """The customers of these events whose behaviour some segment counts."""
        names = self.event_names
        if not names:
            return set()
        return {e.customer_id for e in events if e.type == "track" and e.name in names}

    def refresh(self, unit: Unit, profiles: Sequence[Profile], now: datetime) -> None:
        """Bring these customers' memberships in line with their profiles and behaviour."""
        if not self.segments or not profiles:
            return
        workspace_id = profiles[0].workspace_id
        by_id = {segment.id: segment for segment in self.segments}

        def counts(clause: Clause, customer_ids: Sequence[str]) -> Mapping[str, int]:
            if isinstance(clause, IdentityMatch):
                return unit.count_identities(workspace_id, customer_ids, clause)
            return unit.count_events(workspace_id, customer_ids, clause, now)

        live = [p for p in profiles if p.deleted_at is None and p.merged_into is None]
        wanted = self._matching(live, now, counts)
        current = unit.segment_memberships(workspace_id, [p.id for p in profiles])
        joins: list[tuple[str, str]] = []
        leaves: list[tuple[str, str]] = []
        activities: list[Activity] = []
        for profile in profiles:
            want = wanted.get(profile.id, set())
            had = current.get(profile.id, set()) & by_id.keys()
            for segment_id in sorted(want - had):
                joins.append((segment_id, profile.id))
                entered = ActivityType.SEGMENT_ENTERED
                activities.extend(_moved(by_id[segment_id], profile, entered, now))
            for segment_id in sorted(had - want):
                leaves.append((segment_id, profile.id))
                left = ActivityType.SEGMENT_LEFT
                activities.extend(_moved(by_id[segment_id], profile, left, now))
        if joins:
            unit.add_segment_members(workspace_id, joins, now)
        if leaves:
            unit.remove_segment_members(workspace_id, leaves)
        if activities:
            unit.add_activities(activities)


def _moved(
    segment: CustomerSegment, profile: Profile, kind: ActivityType, now: datetime
) -> list[Activity]:
    if segment.type is not SegmentType.AUTO_UPDATE:
        return []
    data = {
        "customer": {"id": profile.id, "source_id": profile.external_id},
        "segment": {"id": segment.id, "name": segment.name},
    }
    return [new_activity(profile.workspace_id, profile.id, kind, data, now)]


class MembershipCache:
    """Each workspace's compiled segments, recompiled when its segments change.

    Keyed on the installation's segments version (bumped by every change to
    event or customer segments), read in the caller's transaction.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[int, Membership]] = {}

    def current(self, unit: Unit, workspace_id: str, version: int | None = None) -> Membership:
        if version is None:
            version = unit.segments_version(workspace_id)
        cached = self._compiled.get(workspace_id)
        if cached is None or cached[0] != version:
            found = unit.list_customer_segments(workspace_id)
            cached = (version, Membership(s for s in found if s.type is not SegmentType.STATIC))
            self._compiled[workspace_id] = cached
        return cached[1]


# -- the service ---------------------------------------------------------------------


class CustomerSegmentService:
    """Creates, reads and deletes customer segments; lists a customer's segments."""

    def __init__(self, store: Store, cache: MembershipCache, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.cache = cache
        self.clock = clock

    async def create(
        self,
        *,
        workspace_id: str,
        name: Any,
        type_: Any,
        filter_: Any = None,
        customers: Any = None,
    ) -> tuple[CustomerSegment, int]:
        """Create a segment and fill it; return it with how many customers it holds."""
        segment = _validated(
            workspace_id,
            name=name,
            type_=type_,
            filter_=filter_,
            customers=customers,
            now=self.clock(),
        )
        now = segment.created_at

        def work(unit: Unit) -> tuple[CustomerSegment, int]:
            from patron.domain.customers import resolve_customer
            from patron.ids import new_id

            stored = CustomerSegment(
                new_id("seg"), workspace_id, segment.name, segment.type, segment.filter, now, now
            )
            unit.add_customer_segment(stored)
            unit.bump_segments_version(workspace_id)
            if stored.type is SegmentType.STATIC:
                ids = sorted({resolve_customer(unit, workspace_id, ref).id for ref in customers})
                unit.add_segment_members(workspace_id, [(stored.id, c) for c in ids], now)
                return stored, len(ids)
            rule = stored.rule()
            assert rule is not None
            entered = stored.type is SegmentType.AUTO_UPDATE
            return stored, unit.backfill_segment(stored, rule, now, record_entered=entered)

        return await self.store.write(work)

    async def get(self, *, workspace_id: str, segment_id: str) -> CustomerSegment:
        def work(unit: Unit) -> CustomerSegment:
            found = unit.get_customer_segment(workspace_id, segment_id)
            if found is None:
                raise NotFound(f"no segment {segment_id!r}")
            return found

        return await self.store.read(work)

    async def delete(self, *, workspace_id: str, segment_id: str) -> None:
        def work(unit: Unit) -> None:
            if not unit.delete_customer_segment(workspace_id, segment_id):
                raise NotFound(f"no segment {segment_id!r}")
            unit.bump_segments_version(workspace_id)

        await self.store.write(work)

    async def of_customer(self, *, workspace_id: str, ref: str) -> list[CustomerSegment]:
        """A customer's segments; for a customer Patron does not know, those a new
        customer with this source_id (and nothing else) would qualify for."""
        now = self.clock()

        def work(unit: Unit) -> list[CustomerSegment]:
            from patron.domain.customers import resolve_customer

            segments = {s.id: s for s in unit.list_customer_segments(workspace_id)}
            try:
                profile = resolve_customer(unit, workspace_id, ref)
            except NotFound:
                stranger = Profile(ref, workspace_id, ref, now, now)
                ids = Membership(segments.values()).matching(stranger, now)
            else:
                ids = unit.segment_memberships(workspace_id, [profile.id]).get(profile.id, set())
            return [segments[i] for i in sorted(ids) if i in segments]

        return await self.store.read(work)

    # Last: inside the class, ``list`` names this method from here on.
    async def list(self, *, workspace_id: str) -> list[CustomerSegment]:
        """The workspace's customer segments, oldest first."""
        return await self.store.read(lambda unit: unit.list_customer_segments(workspace_id))


class SegmentSweeper:
    """Keeps segments with time windows correct as time passes, without rescanning.

    Only the passage of time changes "N times in the last D days" for a
    customer with no new events: an event leaves the window when its
    timestamp passes ``now - D``; likewise a relative date ("created more
    than 30 days ago") when the date passes ``now - D``. So each sweep
    re-evaluates, per segment, only the customers with a counted event, or
    such a date, that crossed the window's edge since the previous sweep —
    found through the events and customers indexes. A segment's sweep mark moves in
    the same transaction as its changes (``claim_sweep``), so any number of
    processes can sweep: each window slice is done once.
    """

    def __init__(
        self,
        store: Store,
        memberships: MembershipCache,
        clock: Callable[[], datetime],
        *,
        interval: float = 60.0,
    ) -> None:
        self.store = store
        self.memberships = memberships
        self.clock = clock
        self._loop = BackgroundLoop("segment-sweep", self.sweep, interval)

    async def sweep(self) -> int:
        """One sweep over every windowed segment; returns how many customers it re-evaluated."""
        segments = await self.store.read(lambda unit: unit.windowed_segments())
        total = 0
        for segment in segments:
            now = self.clock()
            total += await self.store.write(partial(self._sweep_one, segment=segment, now=now))
        return total

    def _sweep_one(self, unit: Unit, *, segment: CustomerSegment, now: datetime) -> int:
        previous = segment.swept_at
        if not unit.claim_sweep(segment.id, previous, now):
            return 0  # another process swept it
        rule = segment.rule()
        if rule is None:
            return 0
        start_mark = previous or segment.created_at
        candidates: set[str] = set()
        for behaviour in rule.behaviours:
            if behaviour.days is None:
                continue
            window = timedelta(days=behaviour.days)
            found = unit.customers_with_events(
                segment.workspace_id, behaviour.name, start_mark - window, now - window
            )
            candidates.update(found)
        for field, days in rule.date_windows():
            window = timedelta(days=days)
            found = unit.customers_with_dates(
                segment.workspace_id, field, start_mark - window, now - window
            )
            candidates.update(found)
        if not candidates:
            return 0
        profiles = unit.load_profiles(segment.workspace_id, sorted(candidates))
        membership = self.memberships.current(unit, segment.workspace_id)
        membership.refresh(unit, profiles, now)
        return len(profiles)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()


def _validated(
    workspace_id: str, *, name: Any, type_: Any, filter_: Any, customers: Any, now: datetime
) -> CustomerSegment:
    problems: list[Problem] = []
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME:
        problems.append(Problem(f"must be a string of 1 to {MAX_NAME} characters", "name"))
    try:
        kind = SegmentType(type_)
    except ValueError:
        problems.append(Problem("must be static, auto-update or passive", "type"))
        kind = SegmentType.STATIC
    if kind is SegmentType.STATIC and not problems:
        if filter_ is not None:
            problems.append(Problem("a static segment lists customers; it has no filter", "filter"))
        if not isinstance(customers, list) or not all(isinstance(c, str) and c for c in customers):
            problems.append(Problem("must be a list of customer ids or source_ids", "customers"))
        elif len(customers) > MAX_STATIC_MEMBERS:
            problems.append(
                Problem(f"a static segment holds at most {MAX_STATIC_MEMBERS:,}", "customers")
            )
    elif not problems:
        if customers is not None:
            problems.append(Problem(f"an {kind} segment follows its filter", "customers"))
        try:
            parse_filter(filter_)
        except Invalid as error:
            problems.extend(error.problems)
    if problems:
        raise Invalid.of(problems)
    assert isinstance(name, str)
    stored_filter = None if kind is SegmentType.STATIC else filter_
    return CustomerSegment("", workspace_id, name.strip(), kind, stored_filter, now, now)
