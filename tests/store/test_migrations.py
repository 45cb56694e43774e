"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from patron.store.database import Database
from patron.store.schema import metadata


def test_migrated_database_matches_the_declared_schema(database_url: str) -> None:
    database = Database(database_url)
    try:
        database.migrate()
        database.migrate()  # a second start finds nothing to do
        with database.writer.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, metadata) == []
            assert context.get_current_revision() is not None
            assert set(inspect(connection).get_table_names()) >= set(metadata.tables)
    finally:
        database.dispose()


def test_sqlite_runs_in_wal_mode_with_durable_commits(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with database.writer.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        database.dispose()
