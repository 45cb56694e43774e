"""The queries of audience ids over static customer segments (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select

from patron.domain.promotions.audiences import Audience
from patron.domain.segments.customers.model import SegmentType
from patron.store.promotions.tables import audiences
from patron.store.schema import customer_segments, segment_members
from patron.store.unit_base import UnitBase

_SORTS = {
    "id": audiences.c.id,
    "name": customer_segments.c.name,
    "created": audiences.c.created_at,
}


class AudienceQueries(UnitBase):
    """Implements the audience half of :class:`~patron.domain.promotions.audiences.AudienceUnit`."""

    def insert_audience(
        self,
        workspace_id: str,
        segment_id: str,
        integration: str | None,
        integration_id: str | None,
        now: datetime,
    ) -> int:
        query = (
            insert(audiences)
            .values(
                workspace_id=workspace_id,
                segment_id=segment_id,
                integration=integration,
                integration_id=integration_id,
                created_at=now,
            )
            .returning(audiences.c.id)
        )
        return int(self.connection.execute(query).scalar_one())

    def audiences_by_ids(self, workspace_id: str, ids: Iterable[int]) -> dict[int, Audience]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = _joined().where(
            audiences.c.workspace_id == workspace_id, audiences.c.id.in_(wanted)
        )
        return {row["id"]: _audience(row) for row in self.connection.execute(query).mappings()}

    def find_audience(
        self, workspace_id: str, integration: str, integration_id: str
    ) -> Audience | None:
        query = _joined().where(
            audiences.c.workspace_id == workspace_id,
            audiences.c.integration == integration,
            audiences.c.integration_id == integration_id,
        )
        row = self.connection.execute(query.order_by(audiences.c.id)).mappings().first()
        return None if row is None else _audience(row)

    def assign_audience_ids(self, workspace_id: str, now: datetime) -> None:
        # The unique segment_id makes a concurrent assignment a unique violation:
        # the store retries the work, which then finds the ids assigned.
        unassigned = (
            select(
                customer_segments.c.workspace_id,
                customer_segments.c.id,
                literal(now, audiences.c.created_at.type),
            )
            .where(
                customer_segments.c.workspace_id == workspace_id,
                customer_segments.c.type == SegmentType.STATIC.value,
                ~select(audiences.c.id)
                .where(audiences.c.segment_id == customer_segments.c.id)
                .exists(),
            )
            .order_by(customer_segments.c.created_at, customer_segments.c.id)
        )
        columns = ["workspace_id", "segment_id", "created_at"]
        self.connection.execute(insert(audiences).from_select(columns, unassigned))

    def list_audiences(
        self, workspace_id: str, *, sort: str, skip: int, limit: int
    ) -> list[Audience]:
        column = _SORTS[sort.removeprefix("-")]
        order = column.desc() if sort.startswith("-") else column.asc()
        query = (
            _joined()
            .where(audiences.c.workspace_id == workspace_id)
            .order_by(order, audiences.c.id)
            .offset(skip)
            .limit(limit)
        )
        return [_audience(row) for row in self.connection.execute(query).mappings()]

    def count_audiences(self, workspace_id: str) -> int:
        query = select(func.count()).where(audiences.c.workspace_id == workspace_id)
        return int(self.connection.scalar(query) or 0)

    def audience_ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]:
        query = (
            select(audiences.c.id)
            .join(segment_members, segment_members.c.segment_id == audiences.c.segment_id)
            .where(
                segment_members.c.customer_id == customer_id,
                audiences.c.workspace_id == workspace_id,
            )
            .order_by(audiences.c.id)
        )
        return tuple(int(found) for found in self.connection.scalars(query))


def _joined() -> Any:
    return select(
        audiences,
        customer_segments.c.name,
        customer_segments.c.updated_at,
    ).join(customer_segments, customer_segments.c.id == audiences.c.segment_id)


def _audience(row: Any) -> Audience:
    return Audience(
        id=row["id"],
        workspace_id=row["workspace_id"],
        segment_id=row["segment_id"],
        name=row["name"],
        integration=row["integration"],
        integration_id=row["integration_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
