"""What the tracking API's ingest needs from storage."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from patron.domain.people.ports import IdentityUnit
from patron.domain.segments.events.ports import EventSegmentReader


class TrackingUnit(IdentityUnit, EventSegmentReader, Protocol):
    """Storage operations the ingest rules use inside one transaction."""

    def existing_message_ids(self, workspace_id: str, message_ids: Collection[str]) -> set[str]:
        """Which of these message ids the workspace has already stored."""
        ...


class TrackingObserver(Protocol):
    """Told of every committed ingest (for the metrics)."""

    def events_stored(self, stored: int, duplicates: int) -> None:
        """``stored`` events committed; ``duplicates`` skipped (their messageId was known)."""
        ...
