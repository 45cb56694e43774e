"""Only a database that is really out of reach answers 503; a refused value is a 500.

The classification (:mod:`patron.store.faults`) on errors as each driver raises
them, then the store on both databases: a read or a write that hits a data
error gets that error (the surfaces answer 500 and log it once), is not
retried, and is not reported as an outage; a database that cannot be reached
still gets :class:`Unavailable` (503), reported once.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from patron.domain.errors import Conflict, Unavailable
from patron.services import Services
from patron.store.database import Database
from patron.store.faults import Fault, OutageLog, StorageFault, classify
from patron.store.sql_store import SqlStore
from patron.surfaces.http.errors import STANDARD, by_class
from tests.patron_logs import patron_records
from tests.patron_server import free_port

pytestmark = pytest.mark.anyio


def _sqlite(message: str, code: int) -> DBAPIError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # as the driver sets it
    return DBAPIError.instance("SELECT 1", {}, error, sqlite3.Error)


def _postgres(state: str) -> DBAPIError:
    return DBAPIError.instance("SELECT 1", {}, pg_errors.lookup(state)("…"), psycopg.Error)


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (_sqlite("database is locked", 5), Fault.UNAVAILABLE),
        (_sqlite("attempt to write a readonly database", 8), Fault.UNAVAILABLE),
        (_sqlite("disk I/O error", 10 | 3 << 8), Fault.UNAVAILABLE),  # SQLITE_IOERR_WRITE
        (_sqlite("database disk image is malformed", 11), Fault.UNAVAILABLE),
        (_sqlite("database or disk is full", 13), Fault.UNAVAILABLE),
        (_sqlite("unable to open database file", 14), Fault.UNAVAILABLE),
        (_sqlite("UNIQUE constraint failed: events.id", 2067), Fault.RACE),
        (_sqlite("FOREIGN KEY constraint failed", 787), Fault.UNEXPECTED),
        (_sqlite("malformed JSON", 1), Fault.UNEXPECTED),  # an OperationalError, yet a bug
        (_sqlite("no such table: nowhere", 1), Fault.UNEXPECTED),
        (_postgres("08006"), Fault.UNAVAILABLE),  # connection failure
        (_postgres("57P01"), Fault.UNAVAILABLE),  # admin shutdown
        (_postgres("57P03"), Fault.UNAVAILABLE),  # starting up
        (_postgres("53300"), Fault.UNAVAILABLE),  # too many connections
        (_postgres("53100"), Fault.UNAVAILABLE),  # disk full
        (_postgres("25006"), Fault.UNAVAILABLE),  # a read-only standby
        (_postgres("40P01"), Fault.RACE),  # deadlock
        (_postgres("40001"), Fault.RACE),  # serialisation failure
        (_postgres("23505"), Fault.RACE),  # unique violation
        (_postgres("22P02"), Fault.UNEXPECTED),  # invalid text representation
        (_postgres("22003"), Fault.UNEXPECTED),  # numeric value out of range
        (_postgres("42P01"), Fault.UNEXPECTED),  # undefined table
        (_postgres("28P01"), Fault.UNEXPECTED),  # wrong password: no retry helps
        (
            DBAPIError.instance("", {}, psycopg.OperationalError("refused"), psycopg.Error),
            Fault.UNAVAILABLE,
        ),
        (DBAPIError.instance("", {}, psycopg.DataError("NUL"), psycopg.Error), Fault.UNEXPECTED),
        (StorageFault("the WAL index shrank"), Fault.UNAVAILABLE),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), Fault.UNEXPECTED),
    ],
    ids=lambda value: getattr(getattr(value, "orig", value), "sqlstate", None) or repr(value)[:40],
)
def test_errors_are_classified_by_what_the_caller_must_do(error: Exception, fault: Fault) -> None:
    assert classify(error) is fault


def _data_error(unit: Any) -> Any:
    """A statement the database refuses for its value, on either database."""
    if unit.connection.dialect.name == "sqlite":
        return unit.connection.execute(text("SELECT json('{not json')")).scalar()
    return unit.connection.execute(text("SELECT CAST(:value AS integer)"), {"value": "x"}).scalar()


def _nul_or_data_error(unit: Any) -> Any:
    """On PostgreSQL a NUL in a text parameter, as a NUL in a path id once got a 503."""
    if unit.connection.dialect.name == "sqlite":
        return _data_error(unit)
    return unit.connection.execute(text("SELECT :value"), {"value": "a\x00b"}).scalar()


@pytest.fixture
def store_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with patron_records(caplog) as records:
        yield records


async def test_a_read_that_hits_a_data_error_gets_that_error_not_unavailable(
    services: Services, store_log: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(DBAPIError) as raised:
        await services.store.read(_nul_or_data_error)
    assert not isinstance(raised.value, Unavailable)
    assert by_class(STANDARD, raised.value).status == 500  # how every surface answers it
    assert [r for r in store_log.records if r.levelno >= logging.WARNING] == []  # theirs to log
    assert await services.store.read(lambda unit: 1) == 1  # the store is fine


async def test_a_write_that_hits_a_data_error_fails_alone_and_is_not_retried(
    services: Services, store_log: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def failing(unit: Any) -> Any:
        calls.append(1)
        return _data_error(unit)

    with pytest.raises(DBAPIError) as raised:
        await services.store.write(failing)
    assert not isinstance(raised.value, Unavailable)
    assert calls == [1]
    assert [r for r in store_log.records if r.levelno >= logging.WARNING] == []
    assert await services.store.write(lambda unit: "next") == "next"


async def test_a_unique_violation_that_keeps_coming_back_is_not_an_outage(
    services: Services,
) -> None:
    def insert_twice(unit: Any) -> None:
        unit.connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS once (id int UNIQUE)"))
        unit.connection.execute(text("INSERT INTO once VALUES (1), (1)"))

    with pytest.raises(DBAPIError) as raised:  # retried as a race, then given to the caller
        await services.store.write(insert_twice)
    assert not isinstance(raised.value, Unavailable | Conflict)
    assert by_class(STANDARD, raised.value).status == 500


def _unreachable(database_url: str, tmp_path: Path) -> str:
    """The same kind of database, where there is none."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/patron"


async def test_a_database_out_of_reach_is_unavailable_and_said_once(
    database_url: str, tmp_path: Path, store_log: pytest.LogCaptureFixture
) -> None:
    store = SqlStore(Database(_unreachable(database_url, tmp_path)))
    try:
        for _ in range(3):
            with pytest.raises(Unavailable):
                await store.read(lambda unit: unit.connection.execute(text("SELECT 1")).scalar())
        with pytest.raises(Unavailable):
            await store.write(lambda unit: None)
    finally:
        await store.close()
    errors = [r for r in store_log.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "not available" in errors[0].getMessage()
    assert errors[0].exc_info is None  # an outage is not a bug: no traceback


def test_an_outage_is_reported_once_and_its_end_once(store_log: pytest.LogCaptureFixture) -> None:
    outage = OutageLog("test database")
    outage.recovered()  # nothing to say
    for _ in range(5):
        outage.failed("connection refused")
    outage.recovered()
    outage.recovered()
    said = [(r.levelname, r.getMessage()) for r in store_log.records if r.levelno >= logging.INFO]
    assert said == [
        (
            "ERROR",
            "the test database is not available (connection refused); "
            "answering 503 until it is back",
        ),
        ("INFO", "the test database is available again (5 calls were refused meanwhile)"),
    ]
