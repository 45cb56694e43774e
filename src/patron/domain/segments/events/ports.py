"""What event segments need from storage."""

from __future__ import annotations

from typing import Protocol

from patron.domain.segments.events.model import Segment, SegmentGroup
from patron.domain.tenancy.ports import InstallationReader


class EventSegmentReader(Protocol):
    """What classifying events at ingest reads."""

    def event_segments_version(self, workspace_id: str) -> int:
        """A number that grows with every change to the workspace's event segments or groups."""
        ...

    def list_segments(self, workspace_id: str) -> list[Segment]:
        """Every stored segment, deleted ones too, by id."""
        ...


class SegmentUnit(EventSegmentReader, InstallationReader, Protocol):
    """Storage of event segments and segment groups."""

    def bump_event_segments_version(self, workspace_id: str) -> None: ...

    def get_segment(self, workspace_id: str, segment_id: int) -> Segment | None: ...

    def add_segment(self, segment: Segment) -> None: ...

    def save_segment(self, segment: Segment) -> None: ...

    def list_segment_groups(self, workspace_id: str) -> list[SegmentGroup]: ...

    def get_segment_group(self, workspace_id: str, group_id: int) -> SegmentGroup | None: ...

    def next_segment_group_id(self, workspace_id: str) -> int: ...

    def add_segment_group(self, group: SegmentGroup) -> None: ...

    def save_segment_group(self, group: SegmentGroup) -> None: ...
