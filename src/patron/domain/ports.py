"""What the domain needs from storage, as protocols the store implements.

The domain calls these inside one transaction (a *unit of work*); it never
sees SQL, connections or drivers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from patron.domain.activity import Activity, ActivityQuery
from patron.domain.async_actions import AsyncActionUnit
from patron.domain.profiles import IdentityKind, Profile

if TYPE_CHECKING:  # these modules use the ports: import their types only here
    from patron.domain.customer_segments import (
        Behaviour,
        CustomerSegment,
        IdentityMatch,
        SegmentRule,
    )
    from patron.domain.customers import CustomerQuery

T = TypeVar("T")
P = TypeVar("P")

IdentityKey = tuple[IdentityKind, str]


@dataclass(slots=True)
class EventRecord:
    """An event as stored: the message's indexed fields plus its document."""

    workspace_id: str
    customer_id: str
    message_id: str
    type: str
    name: str | None
    user_id: str | None
    anonymous_id: str | None
    timestamp: datetime
    original_timestamp: datetime | None
    sent_at: datetime | None
    received_at: datetime
    document: dict[str, Any]
    # The event segment and its group at ingest; never changed afterwards.
    segment_id: int | None = None
    segment_group_id: int | None = None


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(slots=True)
class ApiKey:
    workspace_id: str
    kind: str
    key_hash: str
    hint: str  # the first characters, so an operator can tell keys apart
    created_at: datetime


class TrackingUnit(Protocol):
    """Storage operations the ingest rules use inside one transaction."""

    def existing_message_ids(self, workspace_id: str, message_ids: Collection[str]) -> set[str]:
        """Which of these message ids the workspace has already stored."""
        ...

    def find_identities(
        self, workspace_id: str, keys: Collection[IdentityKey]
    ) -> dict[IdentityKey, str]:
        """Map each known identity to the id of the customer it belongs to."""
        ...

    def load_profiles(self, workspace_id: str, customer_ids: Collection[str]) -> list[Profile]:
        """Load profiles for update (locked against concurrent writers where supported)."""
        ...

    def create_profiles(self, profiles: Sequence[Profile]) -> None: ...

    def save_profiles(self, profiles: Sequence[Profile]) -> None:
        """Write changed profiles back (one statement for all of them)."""
        ...

    def add_identities(
        self, workspace_id: str, identities: Sequence[tuple[IdentityKey, str]], now: datetime
    ) -> None:
        """Link identities to customers (``(key, customer_id)`` pairs)."""
        ...

    def move_customer_data(self, workspace_id: str, *, source_id: str, target_id: str) -> None:
        """Re-point everything that belongs to ``source_id`` (events, identities, groups)."""
        ...

    def add_events(self, events: Sequence[EventRecord]) -> None: ...

    def save_group(
        self, workspace_id: str, group_id: str, traits: dict[str, Any], now: datetime
    ) -> None:
        """Create the group or merge ``traits`` into it."""
        ...

    def add_group_member(
        self, workspace_id: str, group_id: str, customer_id: str, now: datetime
    ) -> None: ...


class CustomerReader(Protocol):
    """Read-only queries about customers and their events."""

    def get_profile(self, workspace_id: str, customer_id: str) -> Profile | None: ...

    def find_customer_id(self, workspace_id: str, key: IdentityKey) -> str | None: ...

    def list_identities(self, workspace_id: str, customer_id: str) -> list[IdentityKey]: ...

    def list_groups(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]: ...

    def list_events(
        self, workspace_id: str, customer_id: str, *, limit: int
    ) -> list[dict[str, Any]]: ...


class CustomerUnit(Protocol):
    """What the customers API needs beyond reading single customers."""

    def list_customers(self, workspace_id: str, query: CustomerQuery) -> tuple[list[Profile], int]:
        """Up to ``limit + 1`` customers of the query's page, and how many match in all."""
        ...

    def list_activity(self, profile: Profile, query: ActivityQuery) -> list[Activity]:
        """Up to ``limit + 1`` activities of the customer, in the query's order.

        Raises :class:`~patron.domain.errors.Invalid` for an unknown cursor.
        """
        ...

    def count_activity(self, profile: Profile, query: ActivityQuery) -> int:
        """How many activities of the customer match the query (cursor and limit aside)."""
        ...

    def add_activities(self, activities: Sequence[Activity]) -> None: ...

    def remove_identities(self, workspace_id: str, customer_id: str) -> None:
        """Unlink every userId and anonymousId from the customer (they become free)."""
        ...

    def erase_customer(self, workspace_id: str, customer_id: str) -> dict[str, int]:
        """Delete the customer, the profiles merged into it and everything referring to them;
        return how many rows went, by kind (customers, events, activities, memberships)."""
        ...


class CustomerSegmentUnit(Protocol):
    """Storage of customer segments and their members."""

    def add_customer_segment(self, segment: CustomerSegment) -> None: ...

    def get_customer_segment(
        self, workspace_id: str, segment_id: str
    ) -> CustomerSegment | None: ...

    def list_customer_segments(self, workspace_id: str) -> list[CustomerSegment]: ...

    def delete_customer_segment(self, workspace_id: str, segment_id: str) -> bool:
        """Delete the segment and its memberships; False if there was none."""
        ...

    def count_segment_members(self, segment_id: str) -> int: ...

    def segment_memberships(
        self, workspace_id: str, customer_ids: Collection[str]
    ) -> dict[str, set[str]]:
        """The ids of the segments each of these customers is in."""
        ...

    def add_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Add ``(segment_id, customer_id)`` memberships (existing ones are kept)."""
        ...

    def remove_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]]
    ) -> None: ...

    def backfill_segment(
        self, segment: CustomerSegment, rule: SegmentRule, now: datetime, *, record_entered: bool
    ) -> int:
        """Add every customer matching ``rule`` in one set-based statement; return how many.

        With ``record_entered``, also record customer.segment.entered for each.
        """
        ...

    def count_events(
        self, workspace_id: str, customer_ids: Sequence[str], behaviour: Behaviour, now: datetime
    ) -> dict[str, int]:
        """How many of each customer's events the behaviour counts (absent: none)."""
        ...

    def count_identities(
        self, workspace_id: str, customer_ids: Sequence[str], match: IdentityMatch
    ) -> dict[str, int]:
        """How many of each customer's identities of the match's kind satisfy it (absent: none)."""
        ...

    def windowed_segments(self) -> list[CustomerSegment]:
        """Every segment, of every workspace, whose filter has a time window."""
        ...

    def claim_sweep(self, segment_id: str, previous: datetime | None, now: datetime) -> bool:
        """Move the segment's sweep mark from ``previous`` to ``now``, or False if taken."""
        ...

    def customers_with_events(
        self, workspace_id: str, name: str, start: datetime, end: datetime
    ) -> list[str]:
        """Customers with a track event ``name`` timed in ``[start, end)``."""
        ...

    def customers_with_dates(
        self, workspace_id: str, field: str, start: datetime, end: datetime
    ) -> list[str]:
        """Customers whose ``field`` (birthdate, created_at, updated_at) is in ``[start, end)``
        (birthdate: by day, both days included)."""
        ...


class WorkspaceUnit(Protocol):
    """Storage of workspaces and their API keys."""

    def get_workspace_by_name(self, name: str) -> Workspace | None: ...

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def list_workspaces(self) -> list[Workspace]: ...

    def create_workspace(self, workspace: Workspace) -> None: ...

    def add_key(self, key: ApiKey) -> None:
        """Store a key; raises :class:`~patron.domain.errors.Conflict` if it exists."""
        ...

    def find_key(self, key_hash: str) -> ApiKey | None: ...


@dataclass(slots=True)
class Segment:
    """An event segment: ``criteria`` as the client sent them (already validated)."""

    workspace_id: str
    id: int
    name: str
    ref: str | None
    order: int
    org_id: int | None
    criteria: list[Any]
    status: int  # 200 active, 410 deleted
    group_id: int  # 0: no group
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class SegmentGroup:
    workspace_id: str
    id: int
    name: str
    status: int  # 200 active, 410 deleted
    created_at: datetime
    updated_at: datetime


class SegmentUnit(Protocol):
    """Storage of installations (igrp), segments and segment groups."""

    def add_installation(self, workspace_id: str, now: datetime) -> int:
        """Give the workspace an installation number (igrp) and return it."""
        ...

    def get_igrp(self, workspace_id: str) -> int | None: ...

    def find_installation(self, igrp: int) -> str | None:
        """The id of the workspace with this installation number."""
        ...

    def segments_version(self, workspace_id: str) -> int:
        """A number that grows with every change to the workspace's segments or groups."""
        ...

    def bump_segments_version(self, workspace_id: str) -> None: ...

    def list_segments(self, workspace_id: str) -> list[Segment]:
        """Every stored segment, deleted ones too, by id."""
        ...

    def get_segment(self, workspace_id: str, segment_id: int) -> Segment | None: ...

    def add_segment(self, segment: Segment) -> None: ...

    def save_segment(self, segment: Segment) -> None: ...

    def list_segment_groups(self, workspace_id: str) -> list[SegmentGroup]: ...

    def get_segment_group(self, workspace_id: str, group_id: int) -> SegmentGroup | None: ...

    def next_segment_group_id(self, workspace_id: str) -> int: ...

    def add_segment_group(self, group: SegmentGroup) -> None: ...

    def save_segment_group(self, group: SegmentGroup) -> None: ...


class Unit(
    TrackingUnit,
    CustomerReader,
    CustomerUnit,
    CustomerSegmentUnit,
    WorkspaceUnit,
    SegmentUnit,
    AsyncActionUnit,
    Protocol,
):
    """Everything available inside one transaction."""


class Store(Protocol):
    """Runs domain work in transactions."""

    async def write(self, work: Callable[[Unit], T], *, size: int = 1) -> T:
        """Run ``work`` in a write transaction; return once it is committed.

        ``size`` is how many messages the work carries, for back-pressure.
        """
        ...

    async def write_batched(
        self,
        key: Hashable,
        work: Callable[[Unit, list[P]], Sequence[T]],
        payload: P,
        *,
        size: int,
    ) -> T:
        """Like :meth:`write`, but ``work`` may be called once for many callers.

        Concurrent callers passing an equal ``key`` and ``work`` may have their
        payloads handed to one call of ``work``, which returns one result per
        payload, in order. ``work`` must therefore be a stable function (a
        module function or a bound method), not a fresh lambda.
        """
        ...

    async def read(self, work: Callable[[Unit], T]) -> T:
        """Run ``work`` against a consistent snapshot."""
        ...
