"""What customer segments need from storage."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from patron.domain.people.ports import ActivityWriter, CustomerReader, ProfileLoader
from patron.domain.segments.customers.filters import Behaviour, IdentityMatch, SegmentRule
from patron.domain.segments.customers.model import CustomerSegment


class CustomerSegmentUnit(CustomerReader, ProfileLoader, ActivityWriter, Protocol):
    """Storage of customer segments and their members."""

    def customer_segments_version(self, workspace_id: str) -> int:
        """A number that grows with every change to the workspace's customer segments."""
        ...

    def bump_customer_segments_version(self, workspace_id: str) -> None: ...

    def add_customer_segment(self, segment: CustomerSegment) -> None: ...

    def get_customer_segment(
        self, workspace_id: str, segment_id: str
    ) -> CustomerSegment | None: ...

    def list_customer_segments(self, workspace_id: str) -> list[CustomerSegment]: ...

    def delete_customer_segment(self, workspace_id: str, segment_id: str) -> bool:
        """Delete the segment and its memberships; False if there was none."""
        ...

    def count_segment_members(self, segment_id: str) -> int: ...

    def segment_memberships(
        self, workspace_id: str, customer_ids: Collection[str]
    ) -> dict[str, set[str]]:
        """The ids of the segments each of these customers is in."""
        ...

    def add_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Add ``(segment_id, customer_id)`` memberships (existing ones are kept)."""
        ...

    def remove_segment_members(
        self, workspace_id: str, pairs: Sequence[tuple[str, str]]
    ) -> None: ...

    def backfill_segment(
        self, segment: CustomerSegment, rule: SegmentRule, now: datetime, *, record_entered: bool
    ) -> int:
        """Add every customer matching ``rule`` in one set-based statement; return how many.

        With ``record_entered``, also record customer.segment.entered for each.
        """
        ...

    def count_events(
        self, workspace_id: str, customer_ids: Sequence[str], behaviour: Behaviour, now: datetime
    ) -> dict[str, int]:
        """How many of each customer's events the behaviour counts (absent: none)."""
        ...

    def count_identities(
        self, workspace_id: str, customer_ids: Sequence[str], match: IdentityMatch
    ) -> dict[str, int]:
        """How many of each customer's identities of the match's kind satisfy it (absent: none)."""
        ...

    def windowed_segments(self) -> list[CustomerSegment]:
        """Every segment, of every workspace, whose filter has a time window."""
        ...

    def claim_sweep(self, segment_id: str, previous: datetime | None, now: datetime) -> bool:
        """Move the segment's sweep mark from ``previous`` to ``now``, or False if taken."""
        ...

    def customers_with_events(
        self, workspace_id: str, name: str, start: datetime, end: datetime
    ) -> list[str]:
        """Customers with a track event ``name`` timed in ``[start, end)``."""
        ...

    def customers_with_dates(
        self, workspace_id: str, field: str, start: datetime, end: datetime
    ) -> list[str]:
        """Customers whose ``field`` (birthdate, created_at, updated_at) is in ``[start, end)``
        (birthdate: by day, both days included)."""
        ...


class SweepObserver(Protocol):
    """Told of every sweep of time-windowed segments (for the metrics)."""

    def sweep_finished(self, *, ok: bool, customers: int, seconds: float) -> None:
        """A sweep ended (``ok``: without an error) after re-evaluating ``customers``."""
        ...
