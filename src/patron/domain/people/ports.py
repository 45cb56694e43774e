"""What people (profiles, identities, events, activity) need from storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from patron.domain.changes import Publisher
from patron.domain.people.activity import Activity
from patron.domain.people.profiles import IdentityKey, Profile
from patron.domain.people.records import EventRecord


class ProfileLoader(Protocol):
    def load_profiles(self, workspace_id: str, customer_ids: Collection[str]) -> list[Profile]:
        """Load profiles for update (locked against concurrent writers where supported)."""
        ...


class IdentityUnit(ProfileLoader, Publisher, Protocol):
    """What identity resolution reads and writes inside one transaction."""

    def hold_identities(
        self, workspace_id: str, keys: Collection[IdentityKey]
    ) -> dict[IdentityKey, tuple[str, str | None]]:
        """Map each known identity to its customer, and hold that customer.

        A held customer is kept from being merged away or erased until the
        transaction ends: holds do not wait for each other or for profile
        changes; a merge of a held customer (:meth:`move_customer_data`) waits
        for the hold to end, and a hold waits for a merge in progress to
        commit. So the identity's customer comes with the customer it has been
        merged into (None while it is not merged).
        """
        ...

    def hold_customers(
        self, workspace_id: str, customer_ids: Collection[str]
    ) -> dict[str, str | None]:
        """Hold these customers (see :meth:`hold_identities`); return those already gone.

        Each merged-away customer comes with the customer it was merged into,
        each erased one (or one of another workspace) with None.
        """
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
        """Re-point everything that belongs to ``source_id`` (events, identities, groups).

        Waits first for every transaction holding ``source_id`` (see
        :meth:`hold_customers`) to end, so that what they wrote moves too.
        """
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


class ActivityWriter(Protocol):
    def add_activities(self, activities: Sequence[Activity]) -> None: ...
