"""The queries of event segments and segment groups (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update

from patron.domain.segments.events.model import Segment, SegmentGroup
from patron.store.schema import segment_groups, segments
from patron.store.segments.versions import SegmentVersions


class EventSegmentQueries(SegmentVersions):
    """Implements :class:`~patron.domain.segments.events.ports.SegmentUnit`."""

    def list_segments(self, workspace_id: str) -> list[Segment]:
        query = (
            select(segments)
            .where(segments.c.workspace_id == workspace_id)
            .order_by(segments.c.segment_id)
        )
        return [_segment(row) for row in self.connection.execute(query).mappings()]

    def get_segment(self, workspace_id: str, segment_id: int) -> Segment | None:
        query = select(segments).where(
            segments.c.workspace_id == workspace_id, segments.c.segment_id == segment_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _segment(row)

    def add_segment(self, segment: Segment) -> None:
        self.connection.execute(insert(segments).values(**_segment_row(segment)))

    def save_segment(self, segment: Segment) -> None:
        self.connection.execute(
            update(segments)
            .where(
                segments.c.workspace_id == segment.workspace_id,
                segments.c.segment_id == segment.id,
            )
            .values(**_segment_row(segment))
        )

    def list_segment_groups(self, workspace_id: str) -> list[SegmentGroup]:
        query = (
            select(segment_groups)
            .where(segment_groups.c.workspace_id == workspace_id)
            .order_by(segment_groups.c.group_id)
        )
        return [_group(row) for row in self.connection.execute(query).mappings()]

    def get_segment_group(self, workspace_id: str, group_id: int) -> SegmentGroup | None:
        query = select(segment_groups).where(
            segment_groups.c.workspace_id == workspace_id, segment_groups.c.group_id == group_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _group(row)

    def next_segment_group_id(self, workspace_id: str) -> int:
        query = select(func.max(segment_groups.c.group_id)).where(
            segment_groups.c.workspace_id == workspace_id
        )
        return int(self.connection.scalar(query) or 0) + 1

    def add_segment_group(self, group: SegmentGroup) -> None:
        self.connection.execute(insert(segment_groups).values(**_group_row(group)))

    def save_segment_group(self, group: SegmentGroup) -> None:
        self.connection.execute(
            update(segment_groups)
            .where(
                segment_groups.c.workspace_id == group.workspace_id,
                segment_groups.c.group_id == group.id,
            )
            .values(**_group_row(group))
        )


def _segment(row: Any) -> Segment:
    return Segment(
        workspace_id=row["workspace_id"],
        id=row["segment_id"],
        name=row["name"],
        ref=row["ref"],
        order=row["segment_order"],
        org_id=row["org_id"],
        criteria=list(row["criteria"]),
        status=row["status"],
        group_id=row["group_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _segment_row(segment: Segment) -> dict[str, Any]:
    return {
        "workspace_id": segment.workspace_id,
        "segment_id": segment.id,
        "name": segment.name,
        "ref": segment.ref,
        "segment_order": segment.order,
        "org_id": segment.org_id,
        "criteria": segment.criteria,
        "status": segment.status,
        "group_id": segment.group_id,
        "created_at": segment.created_at,
        "updated_at": segment.updated_at,
    }


def _group(row: Any) -> SegmentGroup:
    return SegmentGroup(
        workspace_id=row["workspace_id"],
        id=row["group_id"],
        name=row["name"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _group_row(group: SegmentGroup) -> dict[str, Any]:
    return {
        "workspace_id": group.workspace_id,
        "group_id": group.id,
        "name": group.name,
        "status": group.status,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
    }
