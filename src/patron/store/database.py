"""Engines, connection set-up and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from patron.domain.errors import Unavailable
from patron.store.criteria_sql import register_sqlite_functions
from patron.store.driver_sql import driver_connection, driver_errors
from patron.store.faults import Fault, classify, reason
from patron.store.sqlite_files import WalIndexGuard, acquire_guard, release_guard

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do: it only has to be the same in every Patron process.
MIGRATION_LOCK_ID = 0x5A7201
# Seconds a PostgreSQL connection attempt may take: a server that drops packets
# would otherwise hold a request (or the start-up) for the system's TCP timeout.
CONNECT_TIMEOUT = 10


class DatabaseUnreachable(Unavailable):
    """The database did not answer within the start-up timeout."""


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(value: str | bytes) -> Any:
    return orjson.loads(value)


class Database:
    """The engines of one database: a writer and readers.

    On SQLite the writer engine opens every transaction with ``BEGIN
    IMMEDIATE`` (take the write lock first, so two processes never deadlock
    upgrading a read lock), and readers use plain deferred transactions that
    WAL lets run beside the writer.
    """

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL") -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._password = parsed.password
        self.guard: WalIndexGuard | None = None
        options: dict[str, Any] = {"json_serializer": dumps, "json_deserializer": loads}
        if self.is_sqlite:
            self._prepare_sqlite_file()
            self.writer = create_engine(url, pool_size=1, max_overflow=0, **options)
            self.reader = create_engine(url, pool_size=4, max_overflow=4, **options)
            _configure_sqlite(self.writer, sqlite_synchronous, "BEGIN IMMEDIATE", self.guard)
            _configure_sqlite(self.reader, sqlite_synchronous, "BEGIN", self.guard)
            self.name = f"SQLite database {parsed.database or ':memory:'}"
        else:
            if "connect_timeout" not in parsed.query:
                options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
            self.writer = create_engine(url, pool_size=2, pool_pre_ping=True, **options)
            self.reader = create_engine(url, pool_size=8, pool_pre_ping=True, **options)
            where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
            self.name = f"PostgreSQL database {parsed.database} at {where}"

    def _prepare_sqlite_file(self) -> None:
        database = make_url(self.url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            self.guard = acquire_guard(path)

    def transaction(self, *, reading: bool) -> contextlib.AbstractContextManager[None]:
        """Around each transaction of the store (SQLite: see :mod:`.sqlite_files`)."""
        if self.guard is None:
            return contextlib.nullcontext()
        return self.guard.transaction(reading=reading)

    def committing(self) -> contextlib.AbstractContextManager[None]:
        """Around the COMMIT of each write transaction of the store."""
        return contextlib.nullcontext() if self.guard is None else self.guard.committing()

    def redact(self, text: str) -> str:
        """``text`` without the password of the database's URL."""
        return text.replace(self._password, "***") if self._password else text

    async def wait_until_reachable(self, within: float) -> None:
        """Try to connect until the database answers, for at most ``within`` seconds.

        Only PostgreSQL is waited for (a SQLite file is there or is created).
        A server that refuses or drops connections, is starting up or shutting
        down, has no free connection, or has no such database *yet* is tried
        again with backoff, each attempt logged at WARNING; anything else (a
        wrong password, say) is raised at once. Raises
        :class:`DatabaseUnreachable` when the time is up.
        """
        if self.is_sqlite:
            return
        deadline = time.monotonic() + within
        for attempt in itertools.count():
            try:
                await asyncio.to_thread(self._ping)
                return
            except DBAPIError as error:
                if classify(error) is not Fault.UNAVAILABLE:
                    raise
                cause = self.redact(reason(error))
            delay = min(0.5 * 2**attempt, 5.0, deadline - time.monotonic())
            if delay <= 0:
                raise DatabaseUnreachable(
                    f"the {self.name} is not reachable after {within:g} s ({cause})"
                )
            log.warning(
                "the %s is not reachable yet (%s); attempt %d, trying again in %.1f s",
                self.name,
                cause,
                attempt + 1,
                delay,
            )
            await asyncio.sleep(delay)

    def _ping(self) -> None:
        with self.writer.connect() as connection:
            connection.execute(text("SELECT 1"))

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to the newest migration (safe with many processes)."""
        with self.writer.connect() as connection:
            if not self.is_sqlite:  # one process migrates, the others wait
                connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            else:
                # SQLite alters a table by copying it, which foreign keys would
                # refuse; they are checked once the migrations are done. (The
                # pragma only works outside a transaction: set it on the driver.)
                driver_connection(connection).execute("PRAGMA foreign_keys=OFF")
            try:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            finally:
                if not self.is_sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                    )
                connection.commit()
                if self.is_sqlite:
                    driver = driver_connection(connection)
                    driver.execute("PRAGMA foreign_keys=ON")
                    broken = driver.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migrations broke foreign keys: {broken[:5]}")

    def ping(self) -> None:
        """One trivial query on a reader connection; raises if the database does not answer."""
        with self.reader.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()
        if self.guard is not None:
            release_guard(self.guard)
            self.guard = None


_INDEX_GENERATION = "patron_wal_index_generation"  # in each connection's info


def _configure_sqlite(
    engine: Engine, synchronous: str, begin: str, guard: WalIndexGuard | None
) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if guard is not None:
            try:
                guard.check_file()  # before SQLite reads the file (and maps its WAL index)
            except Exception:
                dbapi_connection.close()
                raise
        # Take transaction control from pysqlite, so that BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            # Never map the database file: a mapped file that shrinks or fails
            # to read kills the process with SIGBUS instead of raising an error
            # (some SQLite builds map by default).
            "mmap_size=0",
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "busy_timeout=10000",
            "foreign_keys=ON",
            "cache_size=-65536",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        register_sqlite_functions(dbapi_connection)  # criteria need regular expressions

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # On the driver: every write transaction starts here, and SQLAlchemy's
        # execution layer would cost more than the statement.
        driver = driver_connection(connection)
        with driver_errors(connection, begin, ()):
            if guard is not None and connection.info.get(_INDEX_GENERATION, 0) != guard.generation:
                # The WAL index was rebuilt: pages this connection cached while it
                # was damaged may be stale, and the rebuilt index may look unchanged.
                driver.execute("PRAGMA shrink_memory")
                connection.info[_INDEX_GENERATION] = guard.generation
            driver.execute(begin)
