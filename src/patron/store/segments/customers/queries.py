"""Customer segments in SQL: storage, members and the set-based backfill (a ``SqlUnit`` mixin)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from patron.domain.criteria.tree import Op, Path
from patron.domain.people.activity import ActivityType
from patron.domain.segments.customers.filters import Behaviour, IdentityMatch, SegmentRule
from patron.domain.segments.customers.model import CustomerSegment, SegmentType
from patron.store.criteria_sql import Expr, to_sql
from patron.store.schema import (
    customer_activities,
    customer_segments,
    customers,
    events,
    identities,
    segment_members,
)
from patron.store.segments.versions import SegmentVersions

# The profile document's fields that are columns of their own.
_COLUMNS = {
    "id": customers.c.id,
    "source_id": customers.c.external_id,
    "name": customers.c.name,
    "email": customers.c.email,
    "phone": customers.c.phone,
    "birthdate": customers.c.birthdate,
    "description": customers.c.description,
}
_COMPARE: dict[Op, Callable[[Any, int], Any]] = {
    Op.EQUALS: lambda count, n: count == n,
    Op.GT: lambda count, n: count > n,
    Op.GTE: lambda count, n: count >= n,
    Op.LT: lambda count, n: count < n,
    Op.LTE: lambda count, n: count <= n,
}
# Identity conditions have no dates: ``now`` is never read for them.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STAMPS = {"created_at": customers.c.created_at, "updated_at": customers.c.updated_at}
# Voucherify address parts that a Segment address trait spells differently.
_ADDRESS_SYNONYMS = {"line_1": "street", "postal_code": "postalCode"}


class CustomerSegmentQueries(SegmentVersions):
    """Implements :class:`~patron.domain.segments.customers.ports.CustomerSegmentUnit`."""

    is_postgres: bool

    def add_customer_segment(self, segment: CustomerSegment) -> None:
        self.connection.execute(
            insert(customer_segments).values(
                id=segment.id,
                workspace_id=segment.workspace_id,
                name=segment.name,
                type=segment.type.value,
                filter=segment.filter,
                window_days=segment.window_days,
                swept_at=segment.swept_at,
                created_at=segment.created_at,
                updated_at=segment.updated_at,
            )
        )

    def get_customer_segment(self, workspace_id: str, segment_id: str) -> CustomerSegment | None:
        query = select(customer_segments).where(
            customer_segments.c.workspace_id == workspace_id,
            customer_segments.c.id == segment_id,
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _segment(row)

    def list_customer_segments(self, workspace_id: str) -> list[CustomerSegment]:
        query = (
            select(customer_segments)
            .where(customer_segments.c.workspace_id == workspace_id)
            .order_by(customer_segments.c.created_at, customer_segments.c.id)
        )
        return [_segment(row) for row in self.connection.execute(query).mappings()]

    def delete_customer_segment(self, workspace_id: str, segment_id: str) -> bool:
        deleted = self.connection.execute(
            delete(customer_segments).where(
                customer_segments.c.workspace_id == workspace_id,
                customer_segments.c.id == segment_id,
            )
        ).rowcount
        self.connection.execute(
            delete(segment_members).where(segment_members.c.segment_id == segment_id)
        )
        return bool(deleted)

    def rename_customer_segment(
        self, workspace_id: str, segment_id: str, name: str, now: datetime
    ) -> None:
        self.connection.execute(
            update(customer_segments)
            .where(
                customer_segments.c.workspace_id == workspace_id,
                customer_segments.c.id == segment_id,
            )
            .values(name=name, updated_at=now)
        )

    def segment_member_ids(self, segment_id: str) -> list[str]:
        query = (
            select(segment_members.c.customer_id)
            .where(segment_members.c.segment_id == segment_id)
            .order_by(segment_members.c.customer_id)
        )
        return list(self.connection.scalars(query))

    def count_segment_members(self, segment_id: str) -> int:
        query = select(func.count()).where(segment_members.c.segment_id == segment_id)
        return int(self.connection.scalar(query) or 0)

    # -- members --------------------------------------------------------------------

    def segment_memberships(
        self, workspace_id: str, customer_ids: Collection[str]
    ) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        ids = list(customer_ids)
        for start in range(0, len(ids), 500):
            query = select(segment_members.c.customer_id, segment_members.c.segment_id).where(
                segment_members.c.customer_id.in_(ids[start : start + 500])
            )
            for customer_id, segment_id in self.connection.execute(query):
                found.setdefault(customer_id, set()).add(segment_id)
        return found

    def add_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        if not pairs:
            return
        dialect = postgresql if self.is_postgres else sqlite
        self.connection.execute(
            dialect.insert(segment_members).on_conflict_do_nothing(),
            [
                {
                    "segment_id": segment_id,
                    "customer_id": customer_id,
                    "workspace_id": workspace_id,
                    "created_at": now,
                }
                for segment_id, customer_id in pairs
            ],
        )

    def remove_segment_members(self, workspace_id: str, pairs: Sequence[tuple[str, str]]) -> None:
        for start in range(0, len(pairs), 500):
            chunk = pairs[start : start + 500]
            self.connection.execute(
                delete(segment_members).where(
                    tuple_(segment_members.c.segment_id, segment_members.c.customer_id).in_(chunk)
                )
            )

    def backfill_segment(
        self, segment: CustomerSegment, rule: SegmentRule, now: datetime, *, record_entered: bool
    ) -> int:
        """Fill the segment with every matching customer: ONE INSERT … SELECT.

        Each behavioural condition is a correlated count over the customer's
        events (an index range: events by customer and time); each identity
        condition a correlated EXISTS over their identities.
        """
        matching = to_sql(rule.profile, None, dialect=self._dialect, now=now, locate=self._locate)
        clauses = [
            _COMPARE[b.op](self._event_count(b, customers.c.id, now), b.count)
            for b in rule.behaviours
        ]
        clauses += [self._has_identity(match) for match in rule.identities]
        members = (
            select(
                literal(segment.id),
                customers.c.id,
                customers.c.workspace_id,
                literal(now, customers.c.created_at.type),
            )
            .where(
                customers.c.workspace_id == segment.workspace_id,
                customers.c.merged_into.is_(None),
                customers.c.deleted_at.is_(None),
                matching,
                *clauses,
            )
            # Read the workspace in created_at order, the order rows were written
            # in: without it SQLite's planner walks a partial index in another
            # order (birthdate, say) and reads the table at random, twice as slow.
            .order_by(customers.c.created_at)
        )
        columns = ["segment_id", "customer_id", "workspace_id", "created_at"]
        self.connection.execute(insert(segment_members).from_select(columns, members))
        added = self.count_segment_members(segment.id)  # (rowcount is -1 on some drivers)
        if record_entered and added:
            self._record_entered(segment, now)
        return added

    def _record_entered(self, segment: CustomerSegment, now: datetime) -> None:
        """customer.segment.entered for every member a backfill added, in the same statement."""
        build = func.jsonb_build_object if self.is_postgres else func.json_object
        data = build(
            "customer",
            build("id", customers.c.id, "source_id", customers.c.external_id),
            "segment",
            build("id", segment.id, "name", segment.name),
        )
        # 40 characters: "act_", the customer's 26, and 10 of the segment's random part.
        activity_id = literal("act_") + func.substr(customers.c.id, 6) + literal(segment.id[-10:])
        entered = (
            select(
                activity_id,
                customers.c.workspace_id,
                customers.c.id,
                literal(ActivityType.SEGMENT_ENTERED.value),
                data,
                literal(now, customers.c.created_at.type),
            )
            .select_from(customers)
            .join(
                segment_members,
                and_(
                    segment_members.c.customer_id == customers.c.id,
                    segment_members.c.segment_id == segment.id,
                ),
            )
        )
        columns = ["id", "workspace_id", "customer_id", "type", "data", "created_at"]
        self.connection.execute(insert(customer_activities).from_select(columns, entered))

    @property
    def _dialect(self) -> str:
        return "postgresql" if self.is_postgres else "sqlite"

    def _event_conditions(self, behaviour: Behaviour, now: datetime) -> list[Any]:
        conditions: list[Any] = [events.c.type == "track", events.c.name == behaviour.name]
        since = behaviour.since(now)
        if since is not None:
            conditions.append(events.c.timestamp >= since)
        if behaviour.where is not None:
            where = to_sql(behaviour.where, events.c.payload, dialect=self._dialect, now=now)
            conditions.append(where)
        return conditions

    def _event_count(self, behaviour: Behaviour, customer_id: Any, now: datetime) -> Any:
        """The customer's events that ``behaviour`` counts, as a scalar subquery."""
        return (
            select(func.count())
            .select_from(events)
            .where(events.c.customer_id == customer_id, *self._event_conditions(behaviour, now))
            .scalar_subquery()
        )

    def count_events(
        self, workspace_id: str, customer_ids: Sequence[str], behaviour: Behaviour, now: datetime
    ) -> dict[str, int]:
        conditions = self._event_conditions(behaviour, now)
        return self._count_rows(events, workspace_id, customer_ids, conditions)

    def _count_rows(
        self, table: Table, workspace_id: str, customer_ids: Sequence[str], conditions: list[Any]
    ) -> dict[str, int]:
        """How many rows of ``table`` meeting ``conditions`` each customer has (absent: none)."""
        found: dict[str, int] = {}
        for start in range(0, len(customer_ids), 500):
            query = (
                select(table.c.customer_id, func.count())
                .where(
                    table.c.workspace_id == workspace_id,
                    table.c.customer_id.in_(customer_ids[start : start + 500]),
                    *conditions,
                )
                .group_by(table.c.customer_id)
            )
            found.update({customer_id: int(n) for customer_id, n in self.connection.execute(query)})
        return found

    def _identity_conditions(self, match: IdentityMatch) -> list[Any]:
        conditions: list[Any] = [identities.c.kind == match.kind.value]
        if match.where is not None:
            plain = lambda _path: (identities.c.value, ())  # noqa: E731 (a text column)
            conditions.append(
                to_sql(match.where, None, dialect=self._dialect, now=_EPOCH, locate=plain)
            )
        return conditions

    def _has_identity(self, match: IdentityMatch) -> Any:
        """The identity condition on ``customers``, as a correlated (NOT) EXISTS."""
        found = exists().where(
            identities.c.workspace_id == customers.c.workspace_id,
            identities.c.customer_id == customers.c.id,
            *self._identity_conditions(match),
        )
        return found if match.present else ~found

    def count_identities(
        self, workspace_id: str, customer_ids: Sequence[str], match: IdentityMatch
    ) -> dict[str, int]:
        conditions = self._identity_conditions(match)
        return self._count_rows(identities, workspace_id, customer_ids, conditions)

    # -- the time sweep -------------------------------------------------------------

    def windowed_segments(self) -> list[CustomerSegment]:
        """Every segment of every workspace with a behavioural time window."""
        query = (
            select(customer_segments)
            .where(customer_segments.c.window_days.is_not(None))
            .order_by(customer_segments.c.id)
        )
        return [_segment(row) for row in self.connection.execute(query).mappings()]

    def claim_sweep(self, segment_id: str, previous: datetime | None, now: datetime) -> bool:
        """Move the segment's sweep mark from ``previous`` to ``now``; False if another
        process moved it first."""
        mark = customer_segments.c.swept_at
        claimed = self.connection.execute(
            update(customer_segments)
            .where(
                customer_segments.c.id == segment_id,
                mark.is_(None) if previous is None else mark == previous,
            )
            .values(swept_at=now)
        )
        return bool(claimed.rowcount)

    def customers_with_events(
        self, workspace_id: str, name: str, start: datetime, end: datetime
    ) -> list[str]:
        """Customers with a track event ``name`` timed in ``[start, end)``."""
        query = (
            select(events.c.customer_id)
            .where(
                events.c.workspace_id == workspace_id,
                events.c.type == "track",
                events.c.name == name,
                events.c.timestamp >= start,
                events.c.timestamp < end,
            )
            .distinct()
        )
        return list(self.connection.scalars(query))

    def customers_with_dates(
        self, workspace_id: str, field: str, start: datetime, end: datetime
    ) -> list[str]:
        column = {
            "birthdate": customers.c.birthdate,
            "created_at": customers.c.created_at,
            "updated_at": customers.c.updated_at,
        }[field]
        if field == "birthdate":  # text, YYYY-MM-DD: whole days, a superset is fine
            span = and_(column >= start.date().isoformat(), column <= end.date().isoformat())
        else:
            span = and_(column >= start, column < end)
        query = select(customers.c.id).where(
            customers.c.workspace_id == workspace_id,
            customers.c.merged_into.is_(None),
            customers.c.deleted_at.is_(None),
            span,
        )
        return list(self.connection.scalars(query))

    def _locate(self, path: Path) -> tuple[Expr, Path]:
        """Where a profile document's path lives in the customers table.

        Text columns are read as they are (an empty path: a string or null);
        JSON columns by their path, but for the address parts a Segment trait
        spells differently, read from either spelling.
        """
        head = path[0]
        if head == "metadata":
            return customers.c.attributes, path[1:]
        if head == "address":
            part = path[1]
            if part not in _ADDRESS_SYNONYMS:
                return customers.c.address, (part,)
            value = self._json_value(customers.c.address, part)
            synonym = self._json_value(customers.c.address, _ADDRESS_SYNONYMS[part])
            build = func.jsonb_build_object if self.is_postgres else func.json_object
            return build("v", func.coalesce(value, synonym)), ("v",)
        if head in _STAMPS:
            return self._stamp(_STAMPS[head]), ()
        return _COLUMNS[head], ()

    def _stamp(self, column: Any) -> Expr:
        """A timestamp column as the profile document writes it: ISO 8601, UTC, milliseconds."""
        if self.is_postgres:
            utc = func.timezone("UTC", column)
            return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        return func.strftime("%Y-%m-%dT%H:%M:%fZ", column)

    def _json_value(self, column: Any, key: str) -> Expr:
        if self.is_postgres:
            return cast(Expr, column.op("->")(key))
        return func.json_extract(column, f'$."{key}"')


def _segment(row: Any) -> CustomerSegment:
    return CustomerSegment(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        type=SegmentType(row["type"]),
        filter=row["filter"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        swept_at=row["swept_at"],
    )
