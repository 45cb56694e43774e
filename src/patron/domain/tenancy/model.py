"""Workspaces (tenants) and their API keys, as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(slots=True)
class ApiKey:
    workspace_id: str
    kind: str
    key_hash: str
    hint: str  # the first characters, so an operator can tell keys apart
    created_at: datetime
    application_id: int | None = None  # a Talon.One Integration API key's application
    expires_at: datetime | None = None  # a login token's end; None: never
