"""Talon.One customer profiles: Patron's one customer, seen through Talon's eyes.

A profile's ``integrationId`` is the external id of a workspace's customer
(Segment's ``userId``, Voucherify's ``source_id``): there is no Talon profile
apart from the customer. Looking one up never creates it; updating one
creates the customer on first use, through identity resolution as the
tracking API does, and merges the attributes as an ``identify`` merges
traits (reserved names such as ``email`` fill the standard fields, ``null``
never erases). Every change publishes :class:`ProfilesChanged`, so customer
segments follow it.

Talon events become the customer's events through the tracking capability's
own recording (:func:`record_talon_events`): each carries one message id, so
a retried Talon request records its event once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.people.activity import ActivityType, new_activity
from patron.domain.people.changes import CustomerErasing
from patron.domain.people.identity import USER, IdentityResolver
from patron.domain.people.lookup import MAX_MERGE_HOPS
from patron.domain.people.ports import ActivityWriter, CustomerReader
from patron.domain.people.profiles import Profile
from patron.domain.promotions.audiences import Audience
from patron.domain.promotions.model import ZERO
from patron.domain.segments.events.classify import EventSegmentation
from patron.domain.tracking.messages import Message, MessageType
from patron.domain.tracking.ports import TrackingUnit
from patron.domain.tracking.service import record_messages

MAX_INTEGRATION_ID = 1000
MAX_PROFILES = 1000  # profiles in one bulk update (Talon's limit)
TALON_EVENT_PREFIX = "talon-"  # the message ids of Talon events


@dataclass(frozen=True, slots=True)
class SessionTotals:
    """What a profile's closed sessions add up to (Talon's ``closedSessions``, ``totalSales``)."""

    closed_sessions: int = 0
    total_sales: Decimal = ZERO
    last_session: datetime | None = None  # the latest change to any of its sessions


@dataclass(frozen=True, slots=True)
class TalonProfile:
    """A customer as Talon's ``CustomerProfile``: the customer and what promotions know."""

    profile: Profile
    integration_id: str
    account_id: int  # the workspace's installation number
    totals: SessionTotals = SessionTotals()
    audiences: tuple[tuple[int, str], ...] = ()  # (audience id, name)
    loyalty: tuple[tuple[int, datetime | None], ...] = ()  # (program id, joined)

    @property
    def id(self) -> int:
        """Talon's integer id of the profile (see :func:`talon_profile_id`)."""
        return talon_profile_id(self.profile.workspace_id, self.integration_id)

    @property
    def attributes(self) -> dict[str, Any]:
        """The customer's attributes and set standard fields, in the tracking API's names."""
        return self.profile.traits()

    @property
    def last_activity(self) -> datetime:
        last = self.totals.last_session
        return self.profile.updated_at if last is None else max(last, self.profile.updated_at)


@dataclass(frozen=True, slots=True)
class AudienceChanges:
    """``audiencesChanges``: audience ids to join and to leave."""

    adds: tuple[int, ...] = ()
    deletes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TalonEvent:
    """A Talon event to record as the customer's event (a ``track`` named ``type``)."""

    integration_id: str
    type: str
    attributes: Mapping[str, Any]
    message_id: str  # one per Talon event: recording it twice records it once
    application_id: int
    session_id: str | None = None
    timestamp: datetime | None = None


class ProfileReader(CustomerReader, Protocol):
    """What reading a Talon profile needs beyond the customer."""

    def get_igrp(self, workspace_id: str) -> int | None: ...

    def profile_session_totals(self, workspace_id: str, integration_id: str) -> SessionTotals:
        """The closed sessions of the profile in every application of the workspace."""
        ...

    def audience_ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]:
        """The audience ids of the static segments the customer is in, ascending."""
        ...

    def audiences_by_ids(self, workspace_id: str, ids: Iterable[int]) -> dict[int, Audience]: ...

    def profile_loyalty_memberships(
        self, workspace_id: str, integration_id: str
    ) -> list[tuple[int, datetime | None]]:
        """The loyalty programs (id, first entry) whose ledger names the profile."""
        ...


class ProfileWriter(TrackingUnit, ActivityWriter, ProfileReader, Protocol):
    """What updating Talon profiles needs inside one transaction."""

    def add_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]], now: datetime
    ) -> None: ...

    def remove_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]]
    ) -> None: ...


class ProfileEraser(Protocol):
    def erase_profile_data(
        self, workspace_id: str, integration_ids: Collection[str]
    ) -> dict[str, int]:
        """Delete the promotions rows naming these profiles; how many went, by kind.

        Anonymous counters (a coupon's or referral's usage counter, a
        campaign's overall usage) stay."""
        ...


# -- finding and reading ------------------------------------------------------------


def talon_profile_id(workspace_id: str, integration_id: str) -> int:
    """Talon's integer id of a profile, the one every answer shows (profile endpoints,
    sessions, events, inventories, reservation holders).

    Derived from the workspace and the integration id, so every process gives
    the same one, before and after the customer exists, with no table to
    keep: 1 … 2**31 - 1 (Talon's clients type profile ids as 32-bit
    integers). Two profiles may share one (one chance in about 2**31 per
    pair; likely somewhere past ~50,000 profiles in a workspace): the
    Integration API names profiles by integration id everywhere, so the
    integer is shown, never looked up.
    """
    digest = hashlib.sha256(f"{workspace_id}/{integration_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % (2**31 - 1) + 1


def integration_id_problem(value: Any, field: str) -> Problem | None:
    """What is wrong with an integration id, if anything (any non-blank string ≤ 1000)."""
    if not isinstance(value, str) or not value.strip():
        return Problem("must be a non-empty string", field)
    if len(value) > MAX_INTEGRATION_ID:
        return Problem(f"must be at most {MAX_INTEGRATION_ID} characters", field)
    return None


def find_profile(reader: CustomerReader, workspace_id: str, integration_id: str) -> Profile | None:
    """The customer whose external id this is (following merges), or None."""
    customer_id = reader.find_customer_id(workspace_id, (USER, integration_id))
    profile = None if customer_id is None else reader.get_profile(workspace_id, customer_id)
    for _ in range(MAX_MERGE_HOPS):
        if profile is None or profile.merged_into is None:
            break
        profile = reader.get_profile(workspace_id, profile.merged_into)
    if profile is None or profile.deleted_at is not None or profile.merged_into is not None:
        return None
    return profile


def require_profile(reader: CustomerReader, workspace_id: str, integration_id: str) -> Profile:
    profile = find_profile(reader, workspace_id, integration_id)
    if profile is None:
        raise NotFound("customer profile", integration_id)
    return profile


def talon_profile(reader: ProfileReader, profile: Profile, integration_id: str) -> TalonProfile:
    """The customer with what the promotions tables know of it."""
    workspace_id = profile.workspace_id
    return TalonProfile(
        profile=profile,
        integration_id=integration_id,
        account_id=reader.get_igrp(workspace_id) or 0,
        totals=reader.profile_session_totals(workspace_id, integration_id),
        audiences=audience_names(reader, workspace_id, profile.id),
        loyalty=tuple(reader.profile_loyalty_memberships(workspace_id, integration_id)),
    )


def audience_names(
    reader: ProfileReader, workspace_id: str, customer_id: str
) -> tuple[tuple[int, str], ...]:
    """The customer's audiences (id, name), by id."""
    ids = reader.audience_ids_of(workspace_id, customer_id)
    found = reader.audiences_by_ids(workspace_id, ids)
    return tuple((i, found[i].name) for i in ids if i in found)


# -- changing -------------------------------------------------------------------------


def update_profiles(
    unit: ProfileWriter,
    workspace_id: str,
    changes: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime,
) -> list[Profile]:
    """Create or update the profiles ``(integration id, attributes)`` in the open transaction.

    Attributes merge like an identify's traits. A profile met twice gets
    both changes, in order. Returns the profiles, one per change.
    """
    resolver = IdentityResolver(unit, workspace_id, now)
    resolver.prefetch_users({integration_id for integration_id, _ in changes})
    resolver.preload(resolver.owners.values())
    customer_ids: list[str] = []
    updated: set[str] = set()
    for integration_id, attributes in changes:
        customer_id, created = resolver.customer_for_user(integration_id)
        before = resolver.profile(customer_id).updated_at
        resolver.apply_traits(customer_id, dict(attributes))
        if not created and resolver.profile(customer_id).updated_at != before:
            updated.add(customer_id)
        customer_ids.append(customer_id)
    resolver.commit()  # customer segments follow the changed profiles (a listener)
    if updated:
        unit.add_activities([_updated(resolver.profile(c), now) for c in sorted(updated)])
    return [resolver.profile(customer_id) for customer_id in customer_ids]


def _updated(profile: Profile, now: datetime) -> Any:
    data = {"customer": {"id": profile.id, "source_id": profile.external_id}}
    return new_activity(profile.workspace_id, profile.id, ActivityType.UPDATED, data, now)


def change_audiences(
    unit: ProfileWriter, profile: Profile, changes: AudienceChanges, now: datetime
) -> None:
    """Join and leave audiences (static customer segments); Invalid for an unknown id."""
    wanted = {*changes.adds, *changes.deletes}
    if not wanted:
        return
    found = unit.audiences_by_ids(profile.workspace_id, wanted)
    segments = {audience_id: audience.segment_id for audience_id, audience in found.items()}
    problems = [
        Problem(f"no audience {audience_id}", f"audiencesChanges.{name}.{index}")
        for name, ids in (("adds", changes.adds), ("deletes", changes.deletes))
        for index, audience_id in enumerate(ids)
        if audience_id not in segments
    ]
    if problems:
        raise Invalid.of(problems)
    leaving = set(changes.deletes) - set(changes.adds)
    joining = sorted({(segments[a], profile.id) for a in changes.adds})
    gone = sorted({(segments[a], profile.id) for a in leaving})
    if gone:
        unit.remove_segment_members(profile.workspace_id, gone)
    if joining:
        unit.add_segment_members(profile.workspace_id, joining, now)


# -- events ---------------------------------------------------------------------------


def record_talon_events(
    unit: TrackingUnit,
    workspace_id: str,
    events: Sequence[TalonEvent],
    now: datetime,
    *,
    segmentation: EventSegmentation | None = None,
) -> list[bool]:
    """Record Talon events as their customers' ``track`` events, in the open transaction.

    The customer of an unknown integration id is created. Each event's
    document is in the tracking API's shape (``event`` = the Talon type,
    ``properties`` = its attributes, ``context.talon`` = where it came from),
    so it lists in ``patron events list``, counts in behavioural customer
    segments and shows in the customer's activity. Returns, per event,
    whether it was new (a known message id is skipped).
    """
    return record_messages(
        unit, workspace_id, [_message(event, now) for event in events], now,
        segmentation=segmentation,
    )  # fmt: skip


def _message(event: TalonEvent, now: datetime) -> Message:
    # Built directly rather than through build_message: Talon's integration ids
    # are the caller's own strings, and tracking's placeholder rule ("0",
    # "null"…) is about browsers' ids, not these.
    context: dict[str, Any] = {"applicationId": event.application_id}
    if event.session_id is not None:
        context["sessionId"] = event.session_id
    timestamp = event.timestamp or now
    document = {
        "type": MessageType.TRACK.value,
        "event": event.type,
        "userId": event.integration_id,
        "messageId": event.message_id,
        "properties": dict(event.attributes),
        "context": {"talon": context},
        "timestamp": timestamp.isoformat(),
    }
    return Message(
        type=MessageType.TRACK,
        message_id=event.message_id,
        user_id=event.integration_id,
        anonymous_id=None,
        name=event.type,
        previous_id=None,
        group_id=None,
        traits={},
        timestamp=timestamp,
        original_timestamp=event.timestamp,
        sent_at=None,
        received_at=now,
        document=document,
    )


# -- erasure --------------------------------------------------------------------------


def erase_promotions_data(unit: ProfileEraser, change: CustomerErasing) -> None:
    """Listener of :class:`CustomerErasing`: the customer's promotions rows go with it."""
    named = sorted(external_id for external_id in change.external_ids if external_id)
    if named:  # ("" is no profile: campaign_usage's overall counters use it)
        change.erased.update(unit.erase_profile_data(change.workspace_id, named))
