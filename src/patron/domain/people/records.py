"""Events as stored: what a customer did, append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
