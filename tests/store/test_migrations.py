"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from patron.store.database import MIGRATIONS, Database
from patron.store.declared import metadata
from patron.store.unit import SqlUnit
from tests.conftest import POSTGRES_ADMIN_URL


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


@pytest.fixture
def new_database_url(database_url: str) -> Iterator[str]:
    """A database no migration has touched (the session's PostgreSQL one is already migrated)."""
    if not database_url.startswith("postgresql"):
        yield database_url
        return
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"patron_migration_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_unfinished_job_keeps_its_input_through_migration_0005(new_database_url: str) -> None:
    database = Database(new_database_url)
    try:
        database.migrate("0004")
        now = datetime.now(UTC)
        with database.writer.begin() as connection:
            connection.execute(
                text("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'w', :now)"),
                {"now": now},
            )
            for job, status in (("aa_open", "IN_PROGRESS"), ("aa_done", "DONE")):
                connection.execute(
                    text(
                        "INSERT INTO async_actions (id, workspace_id, type, status, request,"
                        " request_id, total, processed, failed, created_at, updated_at)"
                        " VALUES (:id, 'ws_1', 'T', :status, :request, 'v-1', 2, 1, 0, :now, :now)"
                    ),
                    {"id": job, "status": status, "request": '{"rows": [1, 2]}', "now": now},
                )
                connection.execute(
                    text(
                        "INSERT INTO async_action_results (action_id, row, status)"
                        " VALUES (:id, 0, 'CREATED')"
                    ),
                    {"id": job},
                )
        database.migrate("0008")
        with database.writer.connect() as connection:
            kept = connection.execute(text("SELECT action_id, request FROM async_action_inputs"))
            assert [(job, as_json(request)) for job, request in kept] == [
                ("aa_open", {"rows": [1, 2]})  # finished: input no longer kept
            ]
            assert len(SqlUnit(connection).list_async_action_results("aa_done")) == 1
            connection.rollback()
    finally:
        database.dispose()


def test_unfinished_jobs_inputs_are_split_into_chunks_by_migration_0009(
    new_database_url: str,
) -> None:
    database = Database(new_database_url)
    rows = [{"source_id": f"s{n}", "fields": {}, "metadata": {"n": n}} for n in range(1_234)]
    try:
        database.migrate("0008")
        now = datetime.now(UTC)
        with database.writer.begin() as connection:
            connection.execute(
                text("INSERT INTO workspaces (id, name, created_at) VALUES ('ws_1', 'w', :now)"),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO async_actions (id, workspace_id, type, status, request_id,"
                    " total, processed, failed, created_at, updated_at)"
                    " VALUES ('aa_open', 'ws_1', 'T', 'IN_PROGRESS', 'v-1', 1234, 0, 0, :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text("INSERT INTO async_action_inputs (action_id, request) VALUES ('aa_open', :r)"),
                {"r": orjson.dumps({"rows": rows}).decode()},
            )
        database.migrate()
        with database.writer.connect() as connection:
            unit = SqlUnit(connection)
            read_back = []
            for row in (0, 499, 500, 1_233):
                chunk = unit.async_action_input("aa_open", row)
                assert chunk is not None
                read_back.append((chunk.first_row, orjson.loads(chunk.rows_json)))
            assert [first for first, _ in read_back] == [0, 0, 500, 1_000]
            assert read_back[0][1] == rows[:500]
            assert read_back[3][1] == rows[1_000:]
            assert unit.async_action_input("aa_other", 0) is None
            connection.rollback()
        downgrade(database, "0008")  # and back: one document again
        with database.writer.connect() as connection:
            request = connection.scalar(text("SELECT request FROM async_action_inputs"))
            assert as_json(request) == {"rows": rows}
            connection.rollback()
    finally:
        database.dispose()


def as_json(value: Any) -> Any:
    """A JSON column read with plain SQL: text on SQLite, decoded by psycopg on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str) else value


def downgrade(database: Database, revision: str) -> None:
    with database.writer.connect() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def test_sqlite_runs_in_wal_mode_with_durable_commits(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with database.writer.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        database.dispose()
