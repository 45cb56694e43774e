"""Campaigns for the coupon tests (made with ``CampaignService``), and racing engines."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, NullPool, create_engine, event, select

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.services import Services, open_services
from patron.settings import Settings
from patron.store.promotions.tables import applications


async def campaign_of(
    services: Services,
    workspace_id: str,
    application_id: int,
    coupon_settings: dict[str, Any] | None = None,
) -> int:
    """A new enabled coupon campaign of the application (no ruleset); its id."""
    record = CampaignRecord(
        id=0,
        application_id=application_id,
        name="Coupons",
        features=("coupons",),
        coupon_settings=coupon_settings,
    )
    made = await services.campaigns.create(workspace_id, record)
    return made.id


def make_campaign(
    database_url: str, application_id: int, *, coupon_settings: dict[str, Any] | None = None
) -> int:
    """Like :func:`campaign_of`, from outside (the server's database, its own services)."""

    async def main() -> int:
        services = await open_services(Settings(database_url=database_url), wait=False)
        try:
            workspace_id = await services.store.read(
                lambda unit: unit.connection.scalar(
                    select(applications.c.workspace_id).where(applications.c.id == application_id)
                )
            )
            return await campaign_of(services, workspace_id, application_id, coupon_settings)
        finally:
            await services.close()

    return asyncio.run(main())


def racing_engine(database_url: str) -> Engine:
    """An engine of its own, as another process would have (SQLite: BEGIN IMMEDIATE)."""
    if not database_url.startswith("sqlite"):
        return create_engine(database_url, poolclass=NullPool)
    engine = create_engine(database_url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout=60000")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
