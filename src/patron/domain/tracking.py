"""The tracking service: record Segment-style calls on customer profiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from patron.domain.clock import utcnow
from patron.domain.customer_segments import Membership, MembershipCache
from patron.domain.event_segmentation import (
    DEFAULT_STAMP,
    EventSegmentation,
    SegmentationCache,
    Stamp,
)
from patron.domain.identity import IdentityResolver
from patron.domain.messages import Message, MessageType
from patron.domain.ports import EventRecord, Store, Unit

__all__ = ["IngestResult", "TrackingService", "record_messages", "utcnow"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int


def record_messages(
    unit: Unit,
    workspace_id: str,
    messages: Sequence[Message],
    now: datetime,
    *,
    segmentation: EventSegmentation | None = None,
    membership: Membership | None = None,
) -> list[bool]:
    """Store new messages, resolve their customers and apply their traits.

    Returns, per message, whether it was stored: a message whose ``messageId``
    the workspace already has is skipped entirely (no second event, no second
    trait update). Each stored event is stamped with its event segment
    (``segmentation``; the default segment when there is none).
    """
    seen = unit.existing_message_ids(workspace_id, {m.message_id for m in messages})
    stored: list[bool] = []
    fresh: list[Message] = []
    for message in messages:
        is_new = message.message_id not in seen
        stored.append(is_new)
        if is_new:
            seen.add(message.message_id)
            fresh.append(message)
    resolver = IdentityResolver(unit, workspace_id, now)
    resolver.prefetch(fresh)
    for message in fresh:
        customer_id = resolver.resolve(message)
        if message.type is MessageType.IDENTIFY and message.traits:
            resolver.apply_traits(customer_id, message.traits)
        elif message.type is MessageType.GROUP:
            assert message.group_id is not None
            resolver.add_group(message.group_id, message.traits, customer_id)
        stamp = segmentation.classify(message.document, now) if segmentation else DEFAULT_STAMP
        resolver.add_event(_event_record(workspace_id, customer_id, message, stamp))
    # Customer segments follow the profiles just changed, the customers whose
    # new events a behavioural condition counts, and those who gained an
    # identity if an identity condition asks about them.
    touched = resolver.touched() if membership else []
    acting = membership.acting_customers(resolver.events) if membership else set()
    if membership and membership.asks_identities:
        acting |= resolver.linked
    resolver.flush()
    if membership and (touched or acting):
        others = sorted(acting - {profile.id for profile in touched})
        resolver.preload(others)
        touched += [resolver.profiles[c] for c in others if c in resolver.profiles]
        membership.refresh(unit, touched, now)
    return stored


def _event_record(
    workspace_id: str, customer_id: str, message: Message, stamp: Stamp
) -> EventRecord:
    return EventRecord(
        workspace_id=workspace_id,
        customer_id=customer_id,
        message_id=message.message_id,
        type=message.type.value,
        name=message.name,
        user_id=message.user_id,
        anonymous_id=message.anonymous_id,
        timestamp=message.timestamp,
        original_timestamp=message.original_timestamp,
        sent_at=message.sent_at,
        received_at=message.received_at,
        document=message.document,
        segment_id=stamp.segment_id,
        segment_group_id=stamp.group_id,
    )


Payload = tuple[str, Sequence[Message]]  # (workspace id, messages)


class TrackingService:
    """Records tracking calls durably: returns only after the commit."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        memberships: MembershipCache | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.segmentations = SegmentationCache()
        self.memberships = memberships or MembershipCache()

    async def ingest(self, *, workspace_id: str, messages: Sequence[Message]) -> IngestResult:
        """Record ``messages`` (already validated) for the workspace."""
        return await self.store.write_batched(
            ("tracking", workspace_id),
            self._record,
            (workspace_id, messages),
            size=len(messages),
        )

    def _record(self, unit: Unit, payloads: list[Payload]) -> list[IngestResult]:
        # Concurrent requests of one workspace are recorded together, in order.
        workspace_id = payloads[0][0]
        version = unit.segments_version(workspace_id)  # one read serves both caches
        stored = record_messages(
            unit,
            workspace_id,
            [m for _, messages in payloads for m in messages],
            self.clock(),
            segmentation=self.segmentations.current(unit, workspace_id, version),
            membership=self.memberships.current(unit, workspace_id, version),
        )
        results = []
        start = 0
        for _, messages in payloads:
            count = sum(stored[start : start + len(messages)])
            results.append(IngestResult(stored=count, duplicates=len(messages) - count))
            start += len(messages)
        return results
