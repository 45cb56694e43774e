"""The queries of declared custom attributes (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from patron.domain.promotions.attributes import AttributeRecord
from patron.store.promotions.tables import custom_attributes
from patron.store.unit_base import UnitBase


class AttributeQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.attributes.AttributeUnit`."""

    def insert_attribute(self, attribute: AttributeRecord) -> int:
        values = {
            "workspace_id": attribute.workspace_id,
            "entity": attribute.entity,
            "event_type": attribute.event_type,
            "name": attribute.name,
            "title": attribute.title,
            "type": attribute.type,
            "description": attribute.description,
            "suggestions": list(attribute.suggestions),
            "editable": int(attribute.editable),
            "created_at": attribute.created_at,
        }
        query = insert(custom_attributes).values(values).returning(custom_attributes.c.id)
        return int(self.connection.execute(query).scalar_one())

    def find_attribute(
        self, workspace_id: str, entity: str, event_type: str, name: str
    ) -> AttributeRecord | None:
        query = select(custom_attributes).where(
            custom_attributes.c.workspace_id == workspace_id,
            custom_attributes.c.entity == entity,
            custom_attributes.c.event_type == event_type,
            custom_attributes.c.name == name,
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _attribute(row)

    def get_attribute(self, workspace_id: str, attribute_id: int) -> AttributeRecord | None:
        query = select(custom_attributes).where(
            custom_attributes.c.workspace_id == workspace_id,
            custom_attributes.c.id == attribute_id,
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _attribute(row)

    def list_attributes(self, workspace_id: str) -> list[AttributeRecord]:
        query = (
            select(custom_attributes)
            .where(custom_attributes.c.workspace_id == workspace_id)
            .order_by(custom_attributes.c.id)
        )
        return [_attribute(row) for row in self.connection.execute(query).mappings()]


def _attribute(row: Any) -> AttributeRecord:
    return AttributeRecord(
        id=row["id"],
        workspace_id=row["workspace_id"],
        entity=row["entity"],
        name=row["name"],
        title=row["title"],
        type=row["type"],
        description=row["description"],
        suggestions=tuple(row["suggestions"]),
        editable=bool(row["editable"]),
        event_type=row["event_type"],
        created_at=row["created_at"],
    )
