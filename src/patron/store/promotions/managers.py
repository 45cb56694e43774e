"""The queries of Management API users (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from patron.domain.promotions.managers import Manager
from patron.store.promotions.tables import managers
from patron.store.unit_base import UnitBase


class ManagerQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.managers.ManagerUnit`
    (with ``TenancyQueries``)."""

    def insert_manager(self, manager: Manager) -> int:
        query = (
            insert(managers)
            .values(
                workspace_id=manager.workspace_id,
                email=manager.email,
                password_hash=manager.password_hash,
                created_at=manager.created_at,
            )
            .returning(managers.c.id)
        )
        return int(self.connection.execute(query).scalar_one())

    def manager_by_email(self, email: str) -> Manager | None:
        row = self.connection.execute(select(managers).where(managers.c.email == email))
        found = row.mappings().first()
        return None if found is None else _manager(found)

    def list_managers(self, workspace_id: str) -> list[Manager]:
        query = (
            select(managers).where(managers.c.workspace_id == workspace_id).order_by(managers.c.id)
        )
        return [_manager(row) for row in self.connection.execute(query).mappings()]


def _manager(row: Any) -> Manager:
    return Manager(
        id=row["id"],
        workspace_id=row["workspace_id"],
        email=row["email"],
        password_hash=row["password_hash"],
        created_at=row["created_at"],
    )
