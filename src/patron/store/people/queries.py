"""The queries of profiles, identities, events and groups (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)

from patron.domain.people.profiles import IdentityKey, IdentityKind, Profile
from patron.domain.people.records import EventRecord
from patron.store.database import dumps
from patron.store.driver_sql import DriverStatement, driver_connection, driver_errors
from patron.store.people.profile_rows import PROFILE_UPDATE, profile_from_row, profile_row
from patron.store.schema import (
    customer_activities,
    customer_groups,
    customers,
    events,
    group_members,
    identities,
    segment_members,
)
from patron.store.unit_base import UnitBase, _sqlite_datetime

# Columns of the event document that live in their own columns.
_EVENT_COLUMNS = {
    "messageId": "message_id",
    "type": "type",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "timestamp": "timestamp",
    "originalTimestamp": "original_timestamp",
    "sentAt": "sent_at",
    "receivedAt": "received_at",
}


def _probe_each(column: ColumnElement[Any], found: Select[Any]) -> Select[Any]:
    """PostgreSQL: for each value of the ``values`` array, the first row of ``found`` matching it.

    The values travel as one array parameter and are probed one at a time
    through ``LATERAL … LIMIT 1``: a unique-index lookup per value, whatever
    the table statistics say. (``column = ANY($1)`` looks equivalent, but on
    a young table, or under a prepared statement's generic plan, PostgreSQL
    may scan the table once per value.)
    """
    wanted = (
        func.unnest(bindparam("values", type_=ARRAY(column.type)))
        .table_valued("value")
        .render_derived(name="wanted")
    )
    hit = found.where(column == wanted.c.value).limit(1).lateral("hit")
    return select(wanted.c.value, *hit.c).select_from(wanted).join(hit, true())


def _lookup(column: ColumnElement[Any], found: Select[Any]) -> DriverStatement:
    """``(value, *columns)`` of the rows of ``found`` whose ``column`` is in ``:values``."""

    def build(dialect: str) -> Select[Any]:
        if dialect == "postgresql":
            return _probe_each(column, found)
        # SQLite: the values travel as one JSON array, whatever their number
        # (a bound parameter each would run into SQLite's cap on them).
        wanted = select(func.json_each(bindparam("values")).table_valued("value").c.value)
        return found.with_only_columns(column, *found.selected_columns).where(column.in_(wanted))

    return DriverStatement(build)


# The lookups every tracking transaction makes.
_LOOKUPS = {
    "message_id": _lookup(
        events.c.message_id,
        select(events.c.id).where(events.c.workspace_id == bindparam("workspace_id")),
    ),
    "identity": _lookup(
        identities.c.value,
        select(identities.c.customer_id).where(
            identities.c.workspace_id == bindparam("workspace_id"),
            identities.c.kind == bindparam("kind"),
        ),
    ),
    # The same, holding the customers found (see PeopleQueries.hold_identities).
    "held_identity": _lookup(
        identities.c.value,
        select(identities.c.customer_id, customers.c.merged_into)
        .select_from(identities.join(customers, customers.c.id == identities.c.customer_id))
        .where(
            identities.c.workspace_id == bindparam("workspace_id"),
            identities.c.kind == bindparam("kind"),
        )
        .with_for_update(read=True, key_share=True, of=customers),
    ),
    "held_customer": _lookup(
        customers.c.id,
        select(customers.c.workspace_id, customers.c.merged_into).with_for_update(
            read=True, key_share=True
        ),
    ),
}

_IDENTITIES_INSERT = DriverStatement(
    lambda _dialect: insert(identities).values(
        {column.name: bindparam(column.name) for column in identities.c}
    )
)


class PeopleQueries(UnitBase):
    """Implements the people and tracking ports: identities, profiles, events, groups."""

    def _lookup(self, name: str, values: Collection[Any], **params: Any) -> list[Any]:
        """Run lookup ``name`` for ``values``."""
        wanted = list(values) if self.is_postgres else dumps(list(values))
        return _LOOKUPS[name].rows(self.connection, {"values": wanted, **params})

    # -- tracking ---------------------------------------------------------

    def existing_message_ids(self, workspace_id: str, message_ids: Collection[str]) -> set[str]:
        rows = self._lookup("message_id", message_ids, workspace_id=workspace_id)
        return {row[0] for row in rows}

    def find_identities(
        self, workspace_id: str, keys: Collection[IdentityKey]
    ) -> dict[IdentityKey, str]:
        by_kind: dict[IdentityKind, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        owners: dict[IdentityKey, str] = {}
        for kind, values in by_kind.items():
            rows = self._lookup("identity", values, workspace_id=workspace_id, kind=kind.value)
            for value, customer_id in rows:
                owners[(kind, value)] = customer_id
        return owners

    # Holds are PostgreSQL's weakest row lock, FOR KEY SHARE, on the customer.
    # It conflicts only with FOR UPDATE (taken by move_customer_data on a
    # merge's source, and by deleting the row), not with other holds nor with
    # the FOR NO KEY UPDATE of profile changes: without a merge, nobody waits,
    # and taken by the identity lookup itself, it costs no extra statement.
    # Blocked by a merge, it waits for the merge's commit, then returns the
    # customer's row as the merge left it (merged_into set; an erased one is
    # skipped). SQLite writers are serial: rows are read as they are.

    def hold_identities(
        self, workspace_id: str, keys: Collection[IdentityKey]
    ) -> dict[IdentityKey, tuple[str, str | None]]:
        by_kind: dict[IdentityKind, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        owners: dict[IdentityKey, tuple[str, str | None]] = {}
        for kind, values in by_kind.items():
            rows = self._lookup(
                "held_identity", sorted(values), workspace_id=workspace_id, kind=kind.value
            )
            for value, customer_id, merged_into in rows:
                owners[(kind, value)] = (customer_id, merged_into)
        return owners

    def hold_customers(
        self, workspace_id: str, customer_ids: Collection[str]
    ) -> dict[str, str | None]:
        rows = self._lookup("held_customer", sorted(customer_ids))
        live = {row[0]: row[2] for row in rows if row[1] == workspace_id}
        gone: dict[str, str | None] = {c: None for c in customer_ids if c not in live}
        gone.update({c: survivor for c, survivor in live.items() if survivor is not None})
        return gone

    def load_profiles(self, workspace_id: str, customer_ids: Collection[str]) -> list[Profile]:
        # By id alone: with the workspace in the WHERE clause too, SQLite may
        # pick a (workspace_id, …) index and scan every customer of the
        # workspace instead of probing the primary key once per id.
        query = (
            select(customers)
            .where(customers.c.id.in_(customer_ids))
            .order_by(customers.c.id)
            # PostgreSQL: FOR NO KEY UPDATE, no lost updates between processes;
            # not FOR UPDATE, which would also wait for every hold (see above).
            .with_for_update(key_share=True)
        )
        rows = self.connection.execute(query).mappings()
        return [profile_from_row(row) for row in rows if row["workspace_id"] == workspace_id]

    def create_profiles(self, profiles: Sequence[Profile]) -> None:
        self.connection.execute(insert(customers), [profile_row(p) for p in profiles])

    def save_profiles(self, profiles: Sequence[Profile]) -> None:
        # One executemany; sorted by the caller, so concurrent writers lock in one order.
        rows = []
        for profile in profiles:
            row = profile_row(profile)
            del row["workspace_id"]
            row["_id"] = row.pop("id")
            rows.append(row)
        self.connection.execute(PROFILE_UPDATE, rows)

    def add_identities(
        self, workspace_id: str, pairs: Sequence[tuple[IdentityKey, str]], now: datetime
    ) -> None:
        created_at = self._moment(now)
        rows = [
            {
                "workspace_id": workspace_id,
                "kind": kind.value,
                "value": value,
                "customer_id": customer_id,
                "created_at": created_at,
            }
            for (kind, value), customer_id in pairs
        ]
        _IDENTITIES_INSERT.many(self.connection, rows)

    def move_customer_data(self, workspace_id: str, *, source_id: str, target_id: str) -> None:
        # First wait for every transaction that holds the source (hold_identities,
        # hold_customers) to end: the UPDATEs below, each reading the database as
        # committed when it starts (READ COMMITTED), then see their events and
        # identities. Any transaction that holds the source later waits for this
        # one and finds it merged. (SQLite: writers are serial already.)
        self.connection.execute(
            select(customers.c.id).where(customers.c.id == source_id).with_for_update()
        )
        for table in (events, identities, customer_activities):
            self.connection.execute(
                update(table)
                .where(table.c.workspace_id == workspace_id, table.c.customer_id == source_id)
                .values(customer_id=target_id)
            )
        # The survivor's segments are re-evaluated; the merged profile is in none.
        self.connection.execute(
            delete(segment_members).where(segment_members.c.customer_id == source_id)
        )
        memberships = select(
            group_members.c.workspace_id,
            group_members.c.group_id,
            group_members.c.created_at,
        ).where(group_members.c.customer_id == source_id)
        for workspace, group_id, created_at in self.connection.execute(memberships).all():
            self.add_group_member(workspace, group_id, target_id, created_at)
        self.connection.execute(
            delete(group_members).where(group_members.c.customer_id == source_id)
        )

    def add_events(self, records: Sequence[EventRecord]) -> None:
        # The hottest write: rows go to the driver as tuples, skipping
        # SQLAlchemy's per-row parameter processing (COPY on PostgreSQL).
        driver = driver_connection(self.connection)
        if self.is_postgres:
            with (
                driver_errors(self.connection, _EVENTS_COPY, None),
                driver.cursor() as cursor,
                cursor.copy(_EVENTS_COPY) as copy,
            ):
                for record in records:
                    copy.write_row(_event_tuple(record, _aware, dumps))
        else:
            # Calls of one request share receivedAt and sentAt: format each once.
            formatted: dict[datetime | None, str | None] = {}

            def moment(value: datetime | None) -> str | None:
                if value not in formatted:
                    formatted[value] = _sqlite_datetime(value)
                return formatted[value]

            rows = [_event_tuple(record, moment, dumps) for record in records]
            with driver_errors(self.connection, _EVENTS_INSERT, rows):
                driver.executemany(_EVENTS_INSERT, rows)

    def save_group(
        self, workspace_id: str, group_id: str, traits: dict[str, Any], now: datetime
    ) -> None:
        key = and_(
            customer_groups.c.workspace_id == workspace_id,
            customer_groups.c.group_id == group_id,
        )
        current = self.connection.scalar(
            select(customer_groups.c.traits).where(key).with_for_update()
        )
        if current is None:
            self.connection.execute(
                insert(customer_groups).values(
                    workspace_id=workspace_id,
                    group_id=group_id,
                    traits=traits,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif traits:
            self.connection.execute(
                update(customer_groups)
                .where(key)
                .values(traits={**current, **traits}, updated_at=now)
            )

    def add_group_member(
        self, workspace_id: str, group_id: str, customer_id: str, now: datetime
    ) -> None:
        self.connection.execute(
            self._insert_ignoring_conflicts(group_members).values(
                workspace_id=workspace_id,
                group_id=group_id,
                customer_id=customer_id,
                created_at=now,
            )
        )

    # -- customers (reads) ----------------------------------------------------

    def get_profile(self, workspace_id: str, customer_id: str) -> Profile | None:
        row = (
            self.connection.execute(
                select(customers).where(
                    customers.c.workspace_id == workspace_id, customers.c.id == customer_id
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else profile_from_row(row)

    def find_customer_id(self, workspace_id: str, key: IdentityKey) -> str | None:
        return self.find_identities(workspace_id, [key]).get(key)

    def list_identities(self, workspace_id: str, customer_id: str) -> list[IdentityKey]:
        query = (
            select(identities.c.kind, identities.c.value)
            .where(
                identities.c.workspace_id == workspace_id,
                identities.c.customer_id == customer_id,
            )
            .order_by(identities.c.created_at, identities.c.kind, identities.c.value)
        )
        return [(IdentityKind(kind), value) for kind, value in self.connection.execute(query)]

    def list_groups(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        query = (
            select(customer_groups.c.group_id, customer_groups.c.traits)
            .join(
                group_members,
                and_(
                    group_members.c.workspace_id == customer_groups.c.workspace_id,
                    group_members.c.group_id == customer_groups.c.group_id,
                ),
            )
            .where(
                group_members.c.workspace_id == workspace_id,
                group_members.c.customer_id == customer_id,
            )
            .order_by(customer_groups.c.group_id)
        )
        return [
            {"group_id": group_id, "traits": traits}
            for group_id, traits in self.connection.execute(query)
        ]

    def list_events(
        self, workspace_id: str, customer_id: str, *, limit: int
    ) -> list[dict[str, Any]]:
        query = (
            select(events)
            .where(events.c.workspace_id == workspace_id, events.c.customer_id == customer_id)
            .order_by(events.c.timestamp.desc(), events.c.id.desc())
            .limit(limit)
        )
        return [_event_dict(row) for row in self.connection.execute(query).mappings()]


_EVENT_INSERT_COLUMNS = (
    "workspace_id, customer_id, message_id, type, name, user_id, anonymous_id, "
    "timestamp, original_timestamp, sent_at, received_at, payload, segment_id, segment_group_id"
)
_EVENTS_COPY = f"COPY events ({_EVENT_INSERT_COLUMNS}) FROM STDIN"
_EVENTS_INSERT = f"INSERT INTO events ({_EVENT_INSERT_COLUMNS}) VALUES ({', '.join('?' * 14)})"


def _aware(value: datetime | None) -> datetime | None:
    return value


def _event_tuple(
    record: EventRecord,
    moment: Callable[[datetime | None], Any],
    to_json: Callable[[Any], str],
) -> tuple[Any, ...]:
    document = record.document
    payload = {key: value for key, value in document.items() if key not in _EVENT_COLUMNS}
    return (
        record.workspace_id,
        record.customer_id,
        record.message_id,
        record.type,
        record.name,
        record.user_id,
        record.anonymous_id,
        moment(record.timestamp),
        moment(record.original_timestamp),
        moment(record.sent_at),
        moment(record.received_at),
        to_json(payload),
        record.segment_id,
        record.segment_group_id,
    )


def _event_dict(row: Any) -> dict[str, Any]:
    # str(): SQLAlchemy's keys are a str subclass, which JSON encoders may refuse.
    event = {str(key): row[key] for key in row if key != "payload"}
    event["document"] = row["payload"]  # what the client sent, in Segment's names
    return event
