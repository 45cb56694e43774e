"""What tenancy needs from storage."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from patron.domain.tenancy.model import ApiKey, Workspace


class InstallationReader(Protocol):
    """Infinity installation numbers (``igrp``): one per workspace."""

    def get_igrp(self, workspace_id: str) -> int | None: ...

    def find_installation(self, igrp: int) -> str | None:
        """The id of the workspace with this installation number."""
        ...


class WorkspaceUnit(InstallationReader, Protocol):
    """Storage of workspaces, their API keys and installation numbers."""

    def get_workspace_by_name(self, name: str) -> Workspace | None: ...

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def list_workspaces(self) -> list[Workspace]: ...

    def create_workspace(self, workspace: Workspace) -> None: ...

    def add_key(self, key: ApiKey) -> None:
        """Store a key; raises :class:`~patron.domain.errors.Conflict` if it exists."""
        ...

    def find_key(self, key_hash: str) -> ApiKey | None: ...

    def add_installation(self, workspace_id: str, now: datetime) -> int:
        """Give the workspace an installation number (igrp) and return it."""
        ...
