"""Segment groups: named sets of segments that events are stamped with for reporting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from patron.domain.clock import utcnow
from patron.domain.errors import Conflict, Invalid, NotFound, Problem
from patron.domain.segments.events.model import SegmentGroup
from patron.domain.segments.events.ports import SegmentUnit
from patron.domain.segments.events.service import ACTIVE, DELETED, MAX_TEXT
from patron.domain.store import Store


def _check_name(name: str | None) -> str:
    if name is None:
        raise Invalid.of([Problem("is required", "segmentGroupName")])
    if not 1 <= len(name) <= MAX_TEXT:
        raise Invalid.of([Problem(f"must be 1 to {MAX_TEXT} characters", "segmentGroupName")])
    return name


def create_group(
    unit: SegmentUnit, workspace_id: str, name: str | None, now: datetime
) -> SegmentGroup:
    group = SegmentGroup(
        workspace_id=workspace_id,
        id=unit.next_segment_group_id(workspace_id),
        name=_check_name(name),
        status=ACTIVE,
        created_at=now,
        updated_at=now,
    )
    unit.add_segment_group(group)
    unit.bump_event_segments_version(workspace_id)
    return group


def get_group(unit: SegmentUnit, workspace_id: str, group_id: int) -> SegmentGroup:
    group = unit.get_segment_group(workspace_id, group_id)
    if group is None:
        raise NotFound("segment_group", group_id, f"no segment group {group_id}")
    return group


def _active(unit: SegmentUnit, workspace_id: str, group_id: int) -> SegmentGroup:
    group = get_group(unit, workspace_id, group_id)
    if group.status != ACTIVE:
        raise NotFound("segment_group", group_id, f"segment group {group_id} was deleted")
    return group


def update_group(
    unit: SegmentUnit, workspace_id: str, group_id: int, name: str | None, now: datetime
) -> None:
    group = _active(unit, workspace_id, group_id)
    unit.save_segment_group(replace(group, name=_check_name(name), updated_at=now))
    unit.bump_event_segments_version(workspace_id)


def delete_group(unit: SegmentUnit, workspace_id: str, group_id: int, now: datetime) -> None:
    group = _active(unit, workspace_id, group_id)
    members = [
        segment.id
        for segment in unit.list_segments(workspace_id)
        if segment.group_id == group_id and segment.status == ACTIVE
    ]
    if members:
        raise Conflict(f"segment group {group_id} still has segments {members}")
    unit.save_segment_group(replace(group, status=DELETED, updated_at=now))
    unit.bump_event_segments_version(workspace_id)


class SegmentGroupService:
    """The segment groups of one workspace's installation."""

    def __init__(self, store: Store[SegmentUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def list(self, *, workspace_id: str) -> list[SegmentGroup]:
        """Every group, deleted ones included (status 410), by id."""
        return await self.store.read(lambda unit: unit.list_segment_groups(workspace_id))

    async def get(self, *, workspace_id: str, group_id: int) -> SegmentGroup:
        """One group."""
        return await self.store.read(lambda unit: get_group(unit, workspace_id, group_id))

    async def create(self, *, workspace_id: str, name: str | None) -> SegmentGroup:
        """Create a group with the next free id."""
        now = self.clock()
        return await self.store.write(lambda unit: create_group(unit, workspace_id, name, now))

    async def update(self, *, workspace_id: str, group_id: int, name: str | None) -> None:
        """Rename a group."""
        now = self.clock()
        await self.store.write(lambda unit: update_group(unit, workspace_id, group_id, name, now))

    async def delete(self, *, workspace_id: str, group_id: int) -> None:
        """Mark a group deleted; refused while active segments belong to it."""
        now = self.clock()
        await self.store.write(lambda unit: delete_group(unit, workspace_id, group_id, now))
