"""The customers API's queries: filtered lists, activity, deletion (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from patron.domain.customers.model import CustomerOrder, CustomerQuery
from patron.domain.errors import Invalid
from patron.domain.people.activity import Activity, ActivityQuery, ActivityType
from patron.domain.people.profiles import IdentityKind, Profile
from patron.store.people.profile_rows import profile_from_row
from patron.store.schema import (
    async_action_results,
    customer_activities,
    customers,
    events,
    group_members,
    identities,
    segment_members,
)
from patron.store.unit_base import UnitBase

_ORDER_COLUMNS = {
    CustomerOrder.CREATED_AT: customers.c.created_at,
    CustomerOrder.UPDATED_AT: customers.c.updated_at,
    CustomerOrder.SOURCE_ID: customers.c.external_id,
}

# Activity comes from three sources; within one moment they sort in this order.
_CREATED, _RECORDED, _EVENT = 0, 1, 2
_CREATED_PREFIX = "act_cust_"  # customer.created's id: "act_" + the customer's id
_EVENT_PREFIX = "evt_"  # customer.custom_event's id: "evt_" + the event's row id


class CustomerQueries(UnitBase):
    """Implements :class:`~patron.domain.customers.ports.CustomerUnit`."""

    def list_customers(self, workspace_id: str, query: CustomerQuery) -> tuple[list[Profile], int]:
        matching = [
            customers.c.workspace_id == workspace_id,
            customers.c.merged_into.is_(None),
            customers.c.deleted_at.is_(None),
        ]
        for column, value in (
            (customers.c.email, query.email),
            (customers.c.city, query.city),
            (customers.c.name, query.name),
        ):
            if value is not None:
                matching.append(column == value)
        if query.segment_id is not None:
            members = select(segment_members.c.customer_id).where(
                segment_members.c.segment_id == query.segment_id
            )
            matching.append(customers.c.id.in_(members))
        for column, before, after in (
            (customers.c.created_at, query.created_before, query.created_after),
            (customers.c.updated_at, query.updated_before, query.updated_after),
        ):
            if before is not None:
                matching.append(column < before)
            if after is not None:
                matching.append(column > after)
        total = self.connection.scalar(select(func.count()).where(*matching)) or 0
        if query.starting_after is not None:
            backwards = query.descending and query.order is CustomerOrder.CREATED_AT
            created = customers.c.created_at
            matching.append(
                created < query.starting_after if backwards else created > query.starting_after
            )
        column = _ORDER_COLUMNS[query.order]
        order = (
            (column.desc(), customers.c.id.desc()) if query.descending else (column, customers.c.id)
        )
        page = (
            select(customers)
            .where(*matching)
            .order_by(*order)
            .limit(query.limit + 1)
            .offset((query.page - 1) * query.limit)
        )
        rows = self.connection.execute(page).mappings()
        return [profile_from_row(row) for row in rows], int(total)

    # -- activity ---------------------------------------------------------------

    def add_activities(self, activities: Sequence[Activity]) -> None:
        self.connection.execute(
            insert(customer_activities),
            [
                {
                    "id": activity.id,
                    "workspace_id": activity.workspace_id,
                    "customer_id": activity.customer_id,
                    "type": activity.type,
                    "data": activity.data,
                    "created_at": activity.created_at,
                }
                for activity in activities
            ],
        )

    def list_activity(self, profile: Profile, query: ActivityQuery) -> list[Activity]:
        cursor = self._activity_cursor(profile, query.starting_after_id)
        wanted = query.types
        found: list[tuple[tuple[Any, ...], Activity]] = []
        if wanted is None or ActivityType.CREATED in wanted:
            created = (profile.created_at, _CREATED, "")
            if _in_range(profile.created_at, query) and _after(created, cursor, query.descending):
                found.append((created, _created_activity(profile)))
        if wanted is None or wanted - {ActivityType.CREATED, ActivityType.CUSTOM_EVENT}:
            found.extend(self._recorded_activity(profile, query, cursor))
        if wanted is None or ActivityType.CUSTOM_EVENT in wanted:
            found.extend(self._event_activity(profile, query, cursor))
        found.sort(key=lambda item: item[0], reverse=query.descending)
        return [activity for _, activity in found[: query.limit + 1]]

    def _activity_cursor(self, profile: Profile, activity_id: str | None) -> tuple[Any, ...] | None:
        """The sort key of the activity ``starting_after_id`` names (one of this customer's)."""
        if activity_id is None:
            return None
        moment: datetime | None = None
        if activity_id == _CREATED_PREFIX + profile.id.removeprefix("cust_"):
            return (profile.created_at, _CREATED, "")
        if activity_id.startswith(_EVENT_PREFIX) and activity_id[4:].isdigit():
            row_id = int(activity_id[4:])
            moment = self.connection.scalar(
                select(events.c.timestamp).where(
                    events.c.id == row_id, events.c.customer_id == profile.id
                )
            )
            if moment is not None:
                return (moment, _EVENT, row_id)
        moment = self.connection.scalar(
            select(customer_activities.c.created_at).where(
                customer_activities.c.id == activity_id,
                customer_activities.c.customer_id == profile.id,
            )
        )
        if moment is None:
            raise Invalid(f"starting_after_id: no activity {activity_id!r} of this customer")
        return (moment, _RECORDED, activity_id)

    def count_activity(self, profile: Profile, query: ActivityQuery) -> int:
        wanted = query.types
        total = 0
        if wanted is None or ActivityType.CREATED in wanted:
            total += _in_range(profile.created_at, query)
        if wanted is None or wanted - {ActivityType.CREATED, ActivityType.CUSTOM_EVENT}:
            conditions = _recorded_conditions(profile, query)
            total += self.connection.scalar(select(func.count()).where(*conditions)) or 0
        if wanted is None or ActivityType.CUSTOM_EVENT in wanted:
            conditions = _event_conditions(profile, query)
            total += self.connection.scalar(select(func.count()).where(*conditions)) or 0
        return int(total)

    def _recorded_activity(
        self, profile: Profile, query: ActivityQuery, cursor: tuple[Any, ...] | None
    ) -> list[tuple[tuple[Any, ...], Activity]]:
        table = customer_activities
        conditions = _recorded_conditions(profile, query)
        if cursor is not None:
            conditions.append(
                _past(table.c.created_at, table.c.id, _RECORDED, cursor, query.descending)
            )
        order = (table.c.created_at, table.c.id)
        rows = self.connection.execute(
            select(table)
            .where(*conditions)
            .order_by(*(column.desc() for column in order) if query.descending else order)
            .limit(query.limit + 1)
        ).mappings()
        return [
            (
                (row["created_at"], _RECORDED, row["id"]),
                Activity(
                    id=row["id"],
                    workspace_id=row["workspace_id"],
                    customer_id=row["customer_id"],
                    type=row["type"],
                    data=row["data"],
                    created_at=row["created_at"],
                ),
            )
            for row in rows
        ]

    def _event_activity(
        self, profile: Profile, query: ActivityQuery, cursor: tuple[Any, ...] | None
    ) -> list[tuple[tuple[Any, ...], Activity]]:
        conditions = _event_conditions(profile, query)
        if cursor is not None:
            conditions.append(
                _past(events.c.timestamp, events.c.id, _EVENT, cursor, query.descending)
            )
        order = (events.c.timestamp, events.c.id)
        columns = (events.c.id, events.c.timestamp, events.c.type, events.c.name)
        rows = self.connection.execute(
            select(*columns, events.c.message_id, events.c.payload)
            .where(*conditions)
            .order_by(*(column.desc() for column in order) if query.descending else order)
            .limit(query.limit + 1)
        ).mappings()
        return [
            (
                (row["timestamp"], _EVENT, row["id"]),
                Activity(
                    id=f"{_EVENT_PREFIX}{row['id']}",
                    workspace_id=profile.workspace_id,
                    customer_id=profile.id,
                    type=ActivityType.CUSTOM_EVENT.value,
                    data={"event": _event_data(row)},
                    created_at=row["timestamp"],
                ),
            )
            for row in rows
        ]

    # -- deletion ---------------------------------------------------------------

    def remove_identities(self, workspace_id: str, customer_id: str) -> None:
        self.connection.execute(
            delete(identities).where(
                identities.c.workspace_id == workspace_id,
                identities.c.customer_id == customer_id,
            )
        )

    def erasable_external_ids(self, workspace_id: str, customer_id: str) -> frozenset[str]:
        ids = self._with_merged_profiles(workspace_id, customer_id)
        named = set(
            self.connection.scalars(
                select(customers.c.external_id).where(
                    customers.c.workspace_id == workspace_id,
                    customers.c.id.in_(ids),
                    customers.c.external_id.is_not(None),
                )
            )
        )
        # A deleted customer's ids are free again: another customer may hold one now.
        taken = self.connection.scalars(
            select(identities.c.value).where(
                identities.c.workspace_id == workspace_id,
                identities.c.kind == IdentityKind.USER_ID.value,
                identities.c.value.in_(sorted(named)),
                identities.c.customer_id.not_in(ids),
            )
        )
        return frozenset(named - set(taken))

    def erase_customer(self, workspace_id: str, customer_id: str) -> dict[str, int]:
        ids = self._with_merged_profiles(workspace_id, customer_id)
        execute = self.connection.execute
        counts = {
            "events": execute(
                delete(events).where(
                    events.c.workspace_id == workspace_id, events.c.customer_id.in_(ids)
                )
            ).rowcount,
            "activities": execute(
                delete(customer_activities).where(customer_activities.c.customer_id.in_(ids))
            ).rowcount,
            "memberships": execute(
                delete(group_members).where(group_members.c.customer_id.in_(ids))
            ).rowcount
            + execute(
                delete(segment_members).where(segment_members.c.customer_id.in_(ids))
            ).rowcount,
        }
        execute(delete(identities).where(identities.c.customer_id.in_(ids)))
        # Bulk job reports keep their counts but forget who the rows were about.
        execute(
            update(async_action_results)
            .where(async_action_results.c.record_id.in_(ids))
            .values(record_id=None, record_key=None)
        )
        counts["customers"] = execute(
            delete(customers).where(
                customers.c.workspace_id == workspace_id, customers.c.id.in_(ids)
            )
        ).rowcount
        return counts

    def _with_merged_profiles(self, workspace_id: str, customer_id: str) -> list[str]:
        """The customer and every profile merged into it, directly or through another."""
        found, frontier = [customer_id], [customer_id]
        while frontier:
            frontier = list(
                self.connection.scalars(
                    select(customers.c.id).where(
                        customers.c.workspace_id == workspace_id,
                        customers.c.merged_into.in_(frontier),
                    )
                )
            )
            found.extend(frontier)
        return found


def _recorded_conditions(profile: Profile, query: ActivityQuery) -> list[ColumnElement[bool]]:
    table = customer_activities
    conditions = [table.c.customer_id == profile.id, *_range(table.c.created_at, query)]
    if query.types is not None:
        conditions.append(table.c.type.in_(sorted(query.types)))
    return conditions


def _event_conditions(profile: Profile, query: ActivityQuery) -> list[ColumnElement[bool]]:
    return [
        events.c.workspace_id == profile.workspace_id,
        events.c.customer_id == profile.id,
        *_range(events.c.timestamp, query),
    ]


def _created_activity(profile: Profile) -> Activity:
    return Activity(
        id=_CREATED_PREFIX + profile.id.removeprefix("cust_"),
        workspace_id=profile.workspace_id,
        customer_id=profile.id,
        type=ActivityType.CREATED.value,
        data={"customer": {"id": profile.id, "source_id": profile.external_id}},
        created_at=profile.created_at,
    )


def _event_data(row: Any) -> dict[str, Any]:
    payload = row["payload"] or {}
    data: dict[str, Any] = {"type": row["type"], "message_id": row["message_id"]}
    if row["name"] is not None:
        data["name"] = row["name"]
    for key in ("properties", "traits"):
        if isinstance(payload.get(key), dict):
            data[key] = payload[key]
    return data


def _in_range(moment: datetime, query: ActivityQuery) -> bool:
    return (query.start is None or moment >= query.start) and (
        query.end is None or moment <= query.end
    )


def _range(column: ColumnElement[Any], query: ActivityQuery) -> list[ColumnElement[bool]]:
    conditions = []
    if query.start is not None:
        conditions.append(column >= query.start)
    if query.end is not None:
        conditions.append(column <= query.end)
    return conditions


def _after(key: tuple[Any, ...], cursor: tuple[Any, ...] | None, descending: bool) -> bool:
    if cursor is None:
        return True
    return key < cursor if descending else key > cursor


def _past(
    moment: ColumnElement[Any],
    sequence: ColumnElement[Any],
    rank: int,
    cursor: tuple[Any, ...],
    descending: bool,
) -> ColumnElement[bool]:
    """Rows of one source (``rank``) that sort past the cursor ``(moment, rank, sequence)``."""
    at, cursor_rank, cursor_sequence = cursor
    if descending:
        earlier: ColumnElement[bool] = moment < at
        if rank == cursor_rank:
            return or_(earlier, and_(moment == at, sequence < cursor_sequence))
        return earlier if rank > cursor_rank else or_(earlier, moment == at)
    later: ColumnElement[bool] = moment > at
    if rank == cursor_rank:
        return or_(later, and_(moment == at, sequence > cursor_sequence))
    return later if rank < cursor_rank else or_(later, moment == at)
