"""What happens to people that other capabilities react to (see :mod:`patron.domain.changes`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from patron.domain.changes import Change
from patron.domain.people.profiles import Profile
from patron.domain.people.records import EventRecord


@dataclass(frozen=True, slots=True)
class ProfilesChanged(Change):
    """Profiles were created or changed (merges included), and are saved."""

    workspace_id: str
    profiles: Sequence[Profile]
    now: datetime


@dataclass(frozen=True, slots=True)
class EventsRecorded(Change):
    """Events were stored; ``linked``: customers who gained an identity meanwhile;
    ``changed``: customers whose :class:`ProfilesChanged` went out just before,
    in the same transaction (a listener has re-evaluated them already)."""

    workspace_id: str
    events: Sequence[EventRecord]
    now: datetime
    linked: frozenset[str] = field(default_factory=frozenset)
    changed: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class CustomerDeleted(Change):
    """A customer was deleted (its profile is saved with ``deleted_at`` set)."""

    workspace_id: str
    profile: Profile
    now: datetime


@dataclass(frozen=True, slots=True)
class CustomerErasing(Change):
    """A customer (with the profiles merged into it) is about to be permanently deleted.

    Published before the customer's own rows go, in the same transaction:
    a capability that keeps rows naming the customer erases them now, and
    adds how many it erased, by kind, to ``erased`` (the deletion report).
    ``external_ids``: the ids (userId / integrationId / source_id) that
    named the customer and belong to no other customer now.
    """

    workspace_id: str
    profile: Profile
    external_ids: frozenset[str]
    now: datetime
    erased: dict[str, int] = field(default_factory=dict)
