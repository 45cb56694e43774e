"""The segment versions: how each process tells, cheaply, that its compiled segments are stale.

A workspace's installation row holds two counters, one per kind of segment,
bumped by every change to that kind. Both are read together, once per
transaction (the tracking hot path needs both), and kept on the unit.
"""

from __future__ import annotations

from sqlalchemy import Column, bindparam, select, update

from patron.store.driver_sql import DriverStatement
from patron.store.schema import installations
from patron.store.unit_base import UnitBase

_VERSIONS = DriverStatement(
    lambda _dialect: select(
        installations.c.segments_version, installations.c.customer_segments_version
    ).where(installations.c.workspace_id == bindparam("workspace_id"))
)


class SegmentVersions(UnitBase):
    def _versions(self, workspace_id: str) -> tuple[int, int]:
        known = self.segment_versions.get(workspace_id)
        if known is None:
            # Read by every tracking transaction: run on the driver.
            rows = _VERSIONS.rows(self.connection, {"workspace_id": workspace_id})
            known = (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
            self.segment_versions[workspace_id] = known
        return known

    def event_segments_version(self, workspace_id: str) -> int:
        return self._versions(workspace_id)[0]

    def customer_segments_version(self, workspace_id: str) -> int:
        return self._versions(workspace_id)[1]

    def bump_event_segments_version(self, workspace_id: str) -> None:
        self._bump(workspace_id, installations.c.segments_version)

    def bump_customer_segments_version(self, workspace_id: str) -> None:
        self._bump(workspace_id, installations.c.customer_segments_version)

    def _bump(self, workspace_id: str, column: Column[int]) -> None:
        self.segment_versions.pop(workspace_id, None)
        self.connection.execute(
            update(installations)
            .where(installations.c.workspace_id == workspace_id)
            .values({column: column + 1})
        )
