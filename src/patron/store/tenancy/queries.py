"""The queries of workspaces, API keys and installation numbers (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    insert,
    select,
)

from patron.domain.errors import Conflict
from patron.domain.tenancy.model import ApiKey, Workspace
from patron.store.schema import (
    api_keys,
    installations,
    workspaces,
)
from patron.store.unit_base import UnitBase


class TenancyQueries(UnitBase):
    """Implements :class:`~patron.domain.tenancy.ports.WorkspaceUnit`."""

    # -- workspaces and keys ------------------------------------------------

    def get_workspace_by_name(self, name: str) -> Workspace | None:
        return self._workspace(workspaces.c.name == name)

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        return self._workspace(workspaces.c.id == workspace_id)

    def _workspace(self, condition: Any) -> Workspace | None:
        row = self.connection.execute(select(workspaces).where(condition)).mappings().first()
        return None if row is None else Workspace(**row)

    def list_workspaces(self) -> list[Workspace]:
        query = select(workspaces).order_by(workspaces.c.created_at, workspaces.c.name)
        return [Workspace(**row) for row in self.connection.execute(query).mappings()]

    def create_workspace(self, workspace: Workspace) -> None:
        self.connection.execute(
            insert(workspaces).values(
                id=workspace.id, name=workspace.name, created_at=workspace.created_at
            )
        )

    def add_key(self, key: ApiKey) -> None:
        if self.find_key(key.key_hash) is not None:
            raise Conflict("this key is already in use")
        self.connection.execute(
            insert(api_keys).values(
                key_hash=key.key_hash,
                workspace_id=key.workspace_id,
                kind=key.kind,
                hint=key.hint,
                created_at=key.created_at,
                application_id=key.application_id,
                expires_at=key.expires_at,
            )
        )

    def find_key(self, key_hash: str) -> ApiKey | None:
        row = (
            self.connection.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))
            .mappings()
            .first()
        )
        return None if row is None else ApiKey(**row)

    # -- installation numbers (Infinity igrp) ---------------------------------

    def add_installation(self, workspace_id: str, now: datetime) -> int:
        result = self.connection.execute(
            insert(installations)
            .values(
                workspace_id=workspace_id,
                segments_version=0,
                customer_segments_version=0,
                created_at=now,
            )
            .returning(installations.c.igrp)
        )
        return int(result.scalar_one())

    def get_igrp(self, workspace_id: str) -> int | None:
        query = select(installations.c.igrp).where(installations.c.workspace_id == workspace_id)
        return self.connection.scalar(query)

    def find_installation(self, igrp: int) -> str | None:
        query = select(installations.c.workspace_id).where(installations.c.igrp == igrp)
        return self.connection.scalar(query)
