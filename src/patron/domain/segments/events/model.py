"""Event segments and segment groups (Infinity's Config API), as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Segment:
    """An event segment: ``criteria`` as the client sent them (already validated)."""

    workspace_id: str
    id: int
    name: str
    ref: str | None
    order: int
    org_id: int | None
    criteria: list[Any]
    status: int  # 200 active, 410 deleted
    group_id: int  # 0: no group
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class SegmentGroup:
    workspace_id: str
    id: int
    name: str
    status: int  # 200 active, 410 deleted
    created_at: datetime
    updated_at: datetime
