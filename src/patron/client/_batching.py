"""The queue of encoded messages, cut into request bodies any Segment-compatible server takes."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Segment's own limits (Patron accepts larger batches): every such endpoint takes these.
MAX_REQUEST_BYTES = 500 * 1024  # a request body
MAX_BATCH_SIZE = 2_500  # messages per batch

_SENT_AT_SAMPLE = "2000-01-01T00:00:00.000Z"  # every sentAt has this length


@dataclass(slots=True)
class Pending:
    """A message waiting to be acknowledged, as sent, and the future its caller holds."""

    message: dict[str, Any]
    data: bytes
    future: asyncio.Future[None] = field(repr=False)
    queued_at: float  # when, on the event loop's clock


def sent_at() -> str:
    """Now, as ISO-8601 text of a fixed length (milliseconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def body(batch: list[Pending], when: str) -> bytes:
    """The request body: ``{"batch": [...], "sentAt": when}``, from the encoded messages."""
    items = b",".join(pending.data for pending in batch)
    return b'{"batch":[' + items + b'],"sentAt":"' + when.encode() + b'"}'


_ENVELOPE_BYTES = len(body([], _SENT_AT_SAMPLE))


class Outbox:
    """Messages in the order queued; :meth:`take` cuts the next request's worth."""

    def __init__(self, *, batch_size: int, max_body: int = MAX_REQUEST_BYTES) -> None:
        self.batch_size = batch_size
        self.max_body = max_body
        self._queue: deque[Pending] = deque()
        self._bytes = 0  # what the queue would take as one body, commas included

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[Pending]:
        return iter(self._queue)

    def oldest(self) -> Pending | None:
        return self._queue[0] if self._queue else None

    def put(self, pending: Pending) -> None:
        self._queue.append(pending)
        self._bytes += len(pending.data) + 1

    def full(self) -> bool:
        """Whether a whole batch is waiting: by count, or by the request limit."""
        return len(self._queue) >= self.batch_size or _ENVELOPE_BYTES + self._bytes > self.max_body

    def take(self) -> list[Pending]:
        """The oldest messages that fit one request; at least one if any is queued."""
        batch: list[Pending] = []
        size = _ENVELOPE_BYTES - 1  # n messages need n - 1 commas
        while self._queue and len(batch) < self.batch_size:
            cost = len(self._queue[0].data) + 1
            if batch and size + cost > self.max_body:
                break
            batch.append(self._queue.popleft())
            size += cost
            self._bytes -= cost
        return batch

    def drain(self) -> list[Pending]:
        """Everything queued, removed from the queue."""
        batch = list(self._queue)
        self._queue.clear()
        self._bytes = 0
        return batch
