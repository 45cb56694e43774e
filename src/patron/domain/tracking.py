"""The tracking service: record Segment-style calls on customer profiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from patron.domain.identity import IdentityResolver
from patron.domain.messages import Message, MessageType
from patron.domain.ports import EventRecord, Store, TrackingUnit


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int


def utcnow() -> datetime:
    return datetime.now(UTC)


def record_messages(
    unit: TrackingUnit, workspace_id: str, messages: Sequence[Message], now: datetime
) -> list[bool]:
    """Store new messages, resolve their customers and apply their traits.

    Returns, per message, whether it was stored: a message whose ``messageId``
    the workspace already has is skipped entirely (no second event, no second
    trait update).
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
        resolver.add_event(_event_record(workspace_id, customer_id, message))
    resolver.flush()
    return stored


def _event_record(workspace_id: str, customer_id: str, message: Message) -> EventRecord:
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
    )


Payload = tuple[str, Sequence[Message]]  # (workspace id, messages)


class TrackingService:
    """Records tracking calls durably: returns only after the commit."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def ingest(self, *, workspace_id: str, messages: Sequence[Message]) -> IngestResult:
        """Record ``messages`` (already validated) for the workspace."""
        return await self.store.write_batched(
            ("tracking", workspace_id),
            self._record,
            (workspace_id, messages),
            size=len(messages),
        )

    def _record(self, unit: TrackingUnit, payloads: list[Payload]) -> list[IngestResult]:
        # Concurrent requests of one workspace are recorded together, in order.
        workspace_id = payloads[0][0]
        stored = record_messages(
            unit, workspace_id, [m for _, messages in payloads for m in messages], self.clock()
        )
        results = []
        start = 0
        for _, messages in payloads:
            count = sum(stored[start : start + len(messages)])
            results.append(IngestResult(stored=count, duplicates=len(messages) - count))
            start += len(messages)
        return results
