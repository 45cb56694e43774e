"""Event segments and segment groups of an installation (Infinity's ``igrp``).

Segments 0 and 1 are built in: they are not stored, cannot be changed, and
segment 1 (the default) is what an event gets when no segment matches.
Deleting a segment or group keeps it with status 410: events stamped with it
still name it, and its id is never given out again.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from patron.domain.clock import utcnow
from patron.domain.criteria import event_field, parse
from patron.domain.errors import Conflict, Forbidden, Invalid, NotFound, Problem
from patron.domain.segments.events.model import Segment
from patron.domain.segments.events.ports import SegmentUnit
from patron.domain.store import Store

ACTIVE, DELETED = 200, 410
BUILT_IN = {0: "None", 1: "Default"}
DEFAULT_SEGMENT = 1
MIN_ID, MAX_ID = 2, 65535
MAX_ORDER = 65535
MAX_TEXT = 100
NO_GROUP = 0


@dataclass(frozen=True, slots=True)
class SegmentChanges:
    """The properties a create or update sets; ``None`` leaves one as it is."""

    name: str | None = None
    ref: str | None = None
    order: int | None = None
    org_id: int | None = None
    criteria: list[Any] | None = None
    group_id: int | None = None


def built_in(workspace_id: str, segment_id: int, now: datetime) -> Segment:
    return Segment(
        workspace_id, segment_id, BUILT_IN[segment_id], None, 0, None, [], ACTIVE, 0, now, now
    )


def _check_text(value: str | None, field: str, problems: list[Problem]) -> None:
    if value is not None and not 1 <= len(value) <= MAX_TEXT:
        problems.append(Problem(f"must be 1 to {MAX_TEXT} characters", field))


def _check(unit: SegmentUnit, workspace_id: str, changes: SegmentChanges, segment_id: int) -> None:
    problems: list[Problem] = []
    _check_text(changes.name, "segmentName", problems)
    _check_text(changes.ref, "segmentRef", problems)
    if changes.order is not None and not 0 <= changes.order <= MAX_ORDER:
        problems.append(Problem(f"must be 0 to {MAX_ORDER}", "segmentOrder"))
    if changes.group_id not in (None, NO_GROUP):
        group = unit.get_segment_group(workspace_id, changes.group_id)
        if group is None or group.status != ACTIVE:
            problems.append(Problem(f"no segment group {changes.group_id}", "segmentGroupId"))
    if changes.criteria is not None:
        try:
            parse(changes.criteria, fields=event_field)
        except Invalid as error:
            problems.extend(error.problems)
    if problems:
        raise Invalid.of(problems)
    if changes.ref is not None:
        for other in unit.list_segments(workspace_id):
            if other.ref == changes.ref and other.id != segment_id and other.status == ACTIVE:
                raise Conflict(f"segment {other.id} already has segmentRef {changes.ref!r}")


def _next_id(unit: SegmentUnit, workspace_id: str) -> int:
    taken = [segment.id for segment in unit.list_segments(workspace_id)]
    candidate = max([MIN_ID - 1, *taken]) + 1
    if candidate <= MAX_ID:
        return candidate
    free = sorted(set(range(MIN_ID, MAX_ID + 1)) - set(taken))
    if not free:
        raise Conflict(f"every segment id {MIN_ID} to {MAX_ID} is taken")
    return free[0]


def create_segment(
    unit: SegmentUnit,
    workspace_id: str,
    segment_id: int | None,
    changes: SegmentChanges,
    now: datetime,
) -> Segment:
    if changes.name is None:
        raise Invalid.of([Problem("is required", "segmentName")])
    if changes.criteria is None:
        raise Invalid.of([Problem("is required", "criteria")])
    if segment_id is not None and not MIN_ID <= segment_id <= MAX_ID:
        raise Invalid.of([Problem(f"must be {MIN_ID} to {MAX_ID}", "segment")])
    _check(unit, workspace_id, changes, segment_id or 0)
    if segment_id is None:
        segment_id = _next_id(unit, workspace_id)
    elif unit.get_segment(workspace_id, segment_id) is not None:
        raise Conflict(f"segment {segment_id} already exists (or existed)")
    segment = Segment(
        workspace_id=workspace_id,
        id=segment_id,
        name=changes.name,
        ref=changes.ref,
        order=changes.order or 0,
        org_id=changes.org_id,
        criteria=changes.criteria,
        status=ACTIVE,
        group_id=changes.group_id or NO_GROUP,
        created_at=now,
        updated_at=now,
    )
    unit.add_segment(segment)
    unit.bump_event_segments_version(workspace_id)
    return segment


def _changeable(unit: SegmentUnit, workspace_id: str, segment_id: int, verb: str) -> Segment:
    if segment_id in BUILT_IN:
        raise Invalid.of([Problem(f"built-in segment {segment_id} may not be {verb}", "segment")])
    segment = unit.get_segment(workspace_id, segment_id)
    if segment is None or segment.status != ACTIVE:
        raise NotFound("segment", segment_id, f"no segment {segment_id}")
    return segment


def update_segment(
    unit: SegmentUnit, workspace_id: str, segment_id: int, changes: SegmentChanges, now: datetime
) -> None:
    segment = _changeable(unit, workspace_id, segment_id, "updated")
    _check(unit, workspace_id, changes, segment_id)
    given = {key: value for key, value in _as_fields(changes).items() if value is not None}
    unit.save_segment(replace(segment, **given, updated_at=now))
    unit.bump_event_segments_version(workspace_id)


def _as_fields(changes: SegmentChanges) -> dict[str, Any]:
    return {
        "name": changes.name,
        "ref": changes.ref,
        "order": changes.order,
        "org_id": changes.org_id,
        "criteria": changes.criteria,
        "group_id": changes.group_id,
    }


def order_segments(
    unit: SegmentUnit, workspace_id: str, sorted_ids: list[int], now: datetime
) -> None:
    problems = [
        Problem(f"built-in segment {segment_id} may not be ordered", f"sortedSegments[{i}]")
        for i, segment_id in enumerate(sorted_ids)
        if segment_id in BUILT_IN
    ]
    if len(sorted_ids) > MAX_ORDER + 1:
        problems.append(Problem(f"at most {MAX_ORDER + 1} segments", "sortedSegments"))
    if len(set(sorted_ids)) != len(sorted_ids):
        problems.append(Problem("lists a segment twice", "sortedSegments"))
    if problems:
        raise Invalid.of(problems)
    found = []
    for index, segment_id in enumerate(sorted_ids):
        segment = unit.get_segment(workspace_id, segment_id)
        if segment is None or segment.status != ACTIVE:
            raise Invalid.of([Problem(f"no segment {segment_id}", f"sortedSegments[{index}]")])
        found.append(segment)
    for index, segment in enumerate(found):
        unit.save_segment(replace(segment, order=index, updated_at=now))
    unit.bump_event_segments_version(workspace_id)


def delete_segment(unit: SegmentUnit, workspace_id: str, segment_id: int, now: datetime) -> None:
    segment = _changeable(unit, workspace_id, segment_id, "deleted")
    unit.save_segment(replace(segment, status=DELETED, updated_at=now))
    unit.bump_event_segments_version(workspace_id)


def get_segment(unit: SegmentUnit, workspace_id: str, segment_id: int, now: datetime) -> Segment:
    if segment_id in BUILT_IN:
        return built_in(workspace_id, segment_id, now)
    segment = unit.get_segment(workspace_id, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id, f"no segment {segment_id}")
    return segment


def all_segments(unit: SegmentUnit, workspace_id: str, now: datetime) -> list[Segment]:
    stored = unit.list_segments(workspace_id)
    return [built_in(workspace_id, key, now) for key in sorted(BUILT_IN)] + stored


class SegmentService:
    """The segments and segment groups of one workspace's installation."""

    def __init__(self, store: Store[SegmentUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def installation(self, *, igrp: int, workspace_id: str) -> None:
        """Check that installation ``igrp`` is the workspace's (Forbidden otherwise)."""
        owner = await self.store.read(lambda unit: unit.find_installation(igrp))
        if owner != workspace_id:  # unknown or another's: the same answer, so nothing leaks
            raise Forbidden(f"this key gives no access to installation {igrp}")

    async def igrp(self, *, workspace_id: str) -> int | None:
        """The workspace's installation number."""
        return await self.store.read(lambda unit: unit.get_igrp(workspace_id))

    async def list(self, *, workspace_id: str) -> list[Segment]:
        """Every segment, built-in and deleted ones included, by id."""
        now = self.clock()
        return await self.store.read(lambda unit: all_segments(unit, workspace_id, now))

    async def get(self, *, workspace_id: str, segment_id: int) -> Segment:
        """One segment (deleted ones too, with status 410)."""
        now = self.clock()
        return await self.store.read(lambda unit: get_segment(unit, workspace_id, segment_id, now))

    async def create(
        self, *, workspace_id: str, segment_id: int | None, changes: SegmentChanges
    ) -> Segment:
        """Create a segment (the next free id when ``segment_id`` is None)."""
        now = self.clock()
        return await self.store.write(
            lambda unit: create_segment(unit, workspace_id, segment_id, changes, now)
        )

    async def update(self, *, workspace_id: str, segment_id: int, changes: SegmentChanges) -> None:
        """Change the given properties of a segment."""
        now = self.clock()
        await self.store.write(
            lambda unit: update_segment(unit, workspace_id, segment_id, changes, now)
        )

    async def order(self, *, workspace_id: str, sorted_ids: builtins.list[int]) -> None:
        """Give each listed segment its index in the list as its order."""
        now = self.clock()
        await self.store.write(lambda unit: order_segments(unit, workspace_id, sorted_ids, now))

    async def delete(self, *, workspace_id: str, segment_id: int) -> None:
        """Mark a segment deleted: it stops matching and reports status 410."""
        now = self.clock()
        await self.store.write(lambda unit: delete_segment(unit, workspace_id, segment_id, now))
