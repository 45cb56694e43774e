"""The composition root: settings -> database -> store -> domain services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

from patron.domain import customer_import
from patron.domain.async_actions import AsyncActionService
from patron.domain.clock import utcnow
from patron.domain.customer_segments import (
    CustomerSegmentService,
    MembershipCache,
    SegmentSweeper,
)
from patron.domain.customers import CustomerService
from patron.domain.segment_groups import SegmentGroupService
from patron.domain.segments import SegmentService
from patron.domain.tracking import TrackingService
from patron.domain.workspaces import WorkspaceService
from patron.settings import Settings
from patron.store.database import Database
from patron.store.sql_store import SqlStore


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a surface or the CLI calls, built once per process."""

    store: SqlStore
    workspaces: WorkspaceService
    tracking: TrackingService
    customers: CustomerService
    customer_segments: CustomerSegmentService
    segment_sweeper: SegmentSweeper
    segments: SegmentService
    segment_groups: SegmentGroupService
    async_actions: AsyncActionService

    async def close(self) -> None:
        await self.async_actions.stop()
        await self.segment_sweeper.stop()
        await self.store.close()


async def open_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Connect to the database (migrating it first) and build the services."""
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    if migrate:
        await asyncio.to_thread(database.migrate)
    store = SqlStore(
        database,
        queue_limit=settings.ingest_queue_limit,
        batch_limit=settings.commit_batch_limit,
        read_threads=4 if database.is_sqlite else 8,
    )
    # Compiled customer segments, shared by every writer of profiles.
    memberships = MembershipCache()
    apply_rows = partial(customer_import.apply_customer_rows, memberships=memberships)
    return Services(
        store=store,
        workspaces=WorkspaceService(store, key_cache_seconds=settings.key_cache_seconds),
        tracking=TrackingService(store, memberships=memberships),
        customers=CustomerService(store, memberships=memberships),
        customer_segments=CustomerSegmentService(store, memberships, utcnow),
        segment_sweeper=SegmentSweeper(
            store, memberships, utcnow, interval=settings.segment_sweep_seconds
        ),
        segments=SegmentService(store),
        segment_groups=SegmentGroupService(store),
        async_actions=AsyncActionService(
            store,
            {
                customer_import.CSV_IMPORT: apply_rows,
                customer_import.BULK_UPDATE: apply_rows,
                customer_import.METADATA_UPDATE: apply_rows,
            },
        ),
    )
