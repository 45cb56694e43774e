"""What every query mixin of the unit of work shares: its connection and dialect helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


class UnitBase:
    """One transaction's connection; the query mixins (one per capability) build on it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.is_postgres = connection.dialect.name == "postgresql"
        # The segment versions read in this transaction (see segments/versions.py).
        self.segment_versions: dict[str, tuple[int, int]] = {}

    def _moment(self, value: datetime) -> Any:
        """A datetime as the driver stores it in this database."""
        return value if self.is_postgres else _sqlite_datetime(value)

    def _insert_ignoring_conflicts(self, table: Table) -> Insert:
        if self.is_postgres:
            return postgresql.insert(table).on_conflict_do_nothing()
        return sqlite.insert(table).on_conflict_do_nothing()


def _sqlite_datetime(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime stores (naive UTC, microseconds)."""
    if value is None:
        return None
    if value.tzinfo is not UTC:  # the domain's datetimes already are; converting costs
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"
