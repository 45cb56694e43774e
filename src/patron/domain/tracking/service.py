"""The tracking service: record Segment-style calls on customer profiles."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from patron.domain.clock import utcnow
from patron.domain.people.identity import ANON, USER, IdentityResolver
from patron.domain.people.profiles import IdentityKey
from patron.domain.people.records import EventRecord
from patron.domain.segments.events.classify import (
    DEFAULT_STAMP,
    EventSegmentation,
    SegmentationCache,
    Stamp,
)
from patron.domain.store import Store
from patron.domain.tracking.messages import Message, MessageType
from patron.domain.tracking.ports import TrackingObserver, TrackingUnit


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int


def identity_keys(messages: Iterable[Message]) -> set[IdentityKey]:
    """Every identity a batch of messages mentions, for one prefetch query."""
    keys: set[IdentityKey] = set()
    for message in messages:
        if message.user_id is not None:
            keys.add((USER, message.user_id))
        if message.anonymous_id is not None:
            keys.add((ANON, message.anonymous_id))
        if message.previous_id is not None:
            keys.update(((USER, message.previous_id), (ANON, message.previous_id)))
    return keys


def resolve(resolver: IdentityResolver, message: Message) -> str:
    """The id of the customer ``message`` belongs to (an alias links its two ids first)."""
    if message.type is MessageType.ALIAS:
        assert message.user_id is not None
        assert message.previous_id is not None
        return resolver.alias(message.previous_id, message.user_id)
    return resolver.resolve(message.user_id, message.anonymous_id)


def record_messages(
    unit: TrackingUnit,
    workspace_id: str,
    messages: Sequence[Message],
    now: datetime,
    *,
    segmentation: EventSegmentation | None = None,
) -> list[bool]:
    """Store new messages, resolve their customers and apply their traits.

    Returns, per message, whether it was stored: a message whose ``messageId``
    the workspace already has is skipped entirely (no second event, no second
    trait update). Each stored event is stamped with its event segment
    (``segmentation``; the default segment when there is none). The changed
    profiles and the recorded events are published once, at the end.
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
    resolver.prefetch(identity_keys(fresh))
    for message in fresh:
        customer_id = resolve(resolver, message)
        if message.type is MessageType.IDENTIFY and message.traits:
            resolver.apply_traits(customer_id, message.traits)
        elif message.type is MessageType.GROUP:
            assert message.group_id is not None
            resolver.add_group(message.group_id, message.traits, customer_id)
        stamp = segmentation.classify(message.document, now) if segmentation else DEFAULT_STAMP
        resolver.add_event(_event_record(workspace_id, customer_id, message, stamp))
    resolver.commit()
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
        store: Store[TrackingUnit],
        clock: Callable[[], datetime] = utcnow,
        observer: TrackingObserver | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.observer = observer
        self.segmentations = SegmentationCache()

    async def ingest(self, *, workspace_id: str, messages: Sequence[Message]) -> IngestResult:
        """Record ``messages`` (already validated) for the workspace."""
        result: IngestResult = await self.store.write_batched(
            ("tracking", workspace_id),
            self._record,
            (workspace_id, messages),
            size=len(messages),
        )
        if self.observer is not None:
            self.observer.events_stored(result.stored, result.duplicates)
        return result

    def _record(self, unit: TrackingUnit, payloads: list[Payload]) -> list[IngestResult]:
        # Concurrent requests of one workspace are recorded together, in order.
        workspace_id = payloads[0][0]
        stored = record_messages(
            unit,
            workspace_id,
            [m for _, messages in payloads for m in messages],
            self.clock(),
            segmentation=self.segmentations.current(unit, workspace_id),
        )
        results = []
        start = 0
        for _, messages in payloads:
            count = sum(stored[start : start + len(messages)])
            results.append(IngestResult(stored=count, duplicates=len(messages) - count))
            start += len(messages)
        return results
