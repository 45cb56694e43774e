"""The customer behind a session: found (or created) by its integration id, and its events.

A Talon profile is the workspace's customer whose external id (Segment's
``userId``) is the ``profileId``; an unknown one is created on first use,
as tracking would create it; ``""`` is an anonymous session, with no
customer. What sessions and events do is recorded as the customer's events
(built-in ``talon_session_*`` types and custom event types), so they show
in ``patron events list``; each carries a message id derived from the
session and its update number, so a retried transaction records it once.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.people.identity import USER, IdentityResolver
from patron.domain.people.profiles import Profile
from patron.domain.people.records import EventRecord
from patron.domain.promotions import model
from patron.domain.promotions.session_ports import SessionUnit
from patron.domain.segments.events.classify import SegmentationCache


@dataclass(frozen=True, slots=True)
class ProfileView:
    """The session's customer as the engine and the answer see it."""

    integration_id: str = ""  # "": anonymous
    customer_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_sessions: int = 0
    total_sales: Decimal = Decimal(0)
    audiences: tuple[int, ...] = ()
    segments: Mapping[str, str] = field(default_factory=dict)
    audience_names: Mapping[int, str] = field(default_factory=dict)

    def engine(self) -> model.Profile:
        return model.Profile(
            self.integration_id,
            dict(self.attributes),
            self.audiences,
            self.closed_sessions,
            self.total_sales,
            dict(self.segments),
        )

    def after(self, closed: int, sales: Decimal, now: datetime) -> ProfileView:
        """The view once this update committed ``closed`` sessions worth ``sales``."""
        return ProfileView(
            self.integration_id,
            self.customer_id,
            self.attributes,
            self.created_at,
            now,
            self.closed_sessions + closed,
            self.total_sales + sales,
            self.audiences,
            self.segments,
            self.audience_names,
        )


@dataclass(frozen=True, slots=True)
class EventView:
    """An event an update recorded (or, dry, would have)."""

    id: int
    type: str
    attributes: Mapping[str, Any]
    created_at: datetime
    message_id: str = ""


def view_of(unit: SessionUnit, workspace_id: str, profile_id: str) -> ProfileView:
    """The profile as stored, reading only (unknown: an empty one)."""
    if not profile_id:
        return ProfileView()
    customer_id = unit.find_customer_id(workspace_id, (USER, profile_id))
    found = unit.get_profile(workspace_id, customer_id) if customer_id else None
    if found is None or customer_id is None:
        return ProfileView(profile_id)
    return _view(unit, workspace_id, profile_id, customer_id, found)


def resolve_profile(unit: SessionUnit, resolver: IdentityResolver, profile_id: str) -> ProfileView:
    """The profile, created if unknown (written when the resolver commits)."""
    if not profile_id:
        return ProfileView()
    resolver.prefetch_users([profile_id])
    customer_id, _created = resolver.customer_for_user(profile_id)
    return _view(
        unit, resolver.workspace_id, profile_id, customer_id, resolver.profile(customer_id)
    )


def _view(
    unit: SessionUnit,
    workspace_id: str,
    profile_id: str,
    customer_id: str,
    customer: Profile,
) -> ProfileView:
    totals = unit.profile_totals(workspace_id, customer_id, profile_id)
    audiences = unit.audience_ids_of(workspace_id, customer_id)
    found = unit.audiences_by_ids(workspace_id, audiences)
    return ProfileView(
        profile_id,
        customer_id,
        customer.traits(),
        customer.created_at,
        customer.updated_at,
        totals.closed_sessions,
        totals.total_sales,
        audiences,
        totals.segments,
        {audience_id: audience.name for audience_id, audience in found.items()},
    )


def message_id(application_id: int, session_id: str, update: int, kind: str) -> str:
    digest = hashlib.sha256(f"{application_id}/{session_id}".encode()).hexdigest()[:32]
    return f"talon-{kind}-{digest}-{update}"


def event_id(message: str) -> int:
    """Talon's integer event id, derived from the message id (stable across replays)."""
    return zlib.crc32(message.encode()) & 0x7FFFFFFF or 1


def record_event(
    unit: SessionUnit,
    resolver: IdentityResolver,
    segmentations: SegmentationCache,
    profile: ProfileView,
    event: EventView,
    *,
    properties: Mapping[str, Any],
) -> None:
    """Add ``event`` to the customer's events, once per message id (anonymous: not recorded)."""
    if profile.customer_id is None or not event.message_id:
        return
    workspace_id = resolver.workspace_id
    if unit.existing_message_ids(workspace_id, {event.message_id}):
        return
    document = {
        "type": "track",
        "event": event.type,
        "userId": profile.integration_id,
        "messageId": event.message_id,
        "properties": dict(properties),
        "context": {"library": {"name": "talon.one integration"}},
    }
    stamp = segmentations.current(unit, workspace_id).classify(document, event.created_at)
    resolver.add_event(
        EventRecord(
            workspace_id=workspace_id,
            customer_id=profile.customer_id,
            message_id=event.message_id,
            type="track",
            name=event.type,
            user_id=profile.integration_id,
            anonymous_id=None,
            timestamp=event.created_at,
            original_timestamp=None,
            sent_at=None,
            received_at=event.created_at,
            document=document,
            segment_id=stamp.segment_id,
            segment_group_id=stamp.group_id,
        )
    )
