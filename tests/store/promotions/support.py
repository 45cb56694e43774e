"""Campaign rows for the coupon tests, and engines that race like separate processes.

Campaigns are made by their own part of the promotions capability; these
tests only need a row for coupons to belong to, so they insert one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, NullPool, create_engine, event, insert

from patron.store.promotions.tables import campaigns


def make_campaign(
    database_url: str,
    application_id: int,
    *,
    coupon_settings: dict[str, Any] | None = None,
    name: str = "Coupons",
) -> int:
    """A campaign row of the application (enabled, no ruleset); its id."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            return int(
                connection.execute(
                    insert(campaigns)
                    .values(
                        application_id=application_id,
                        name=name,
                        state="enabled",
                        features=["coupons"],
                        tags=[],
                        limits=[],
                        coupon_settings=coupon_settings,
                        attributes={},
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(campaigns.c.id)
                ).scalar_one()
            )
    finally:
        engine.dispose()


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
