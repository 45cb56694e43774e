"""The hottest statements, run on the driver's own cursor.

SQLAlchemy spends 40-60 µs executing even a prebuilt statement (cache key,
execution context, result wrapping) where SQLite answers a primary-key
lookup in a few microseconds. Every tracking transaction makes a handful of
such statements, so a group of single-event requests paid about a
millisecond of Python before its first row was written. The statements here
are still written with Core against the schema and compiled by SQLAlchemy,
once per dialect; only their execution skips it. Their parameters must be
values the driver takes as they are — the caller converts datetimes and
JSON (see :mod:`patron.store.unit`) — and their results come back as plain
tuples.

Driver errors are re-raised as SQLAlchemy's, so the committer still tells a
lock timeout (retry) from a broken statement (fail the job).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = Mapping[str, Any]


class DriverStatement:
    """A Core statement compiled once per dialect and executed by the driver.

    ``build`` gets the dialect's name, so a statement may take a different
    shape per database (an array parameter on PostgreSQL, ``json_each`` on
    SQLite).
    """

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self._build = build
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self._build(dialect.name).compile(dialect=dialect)
            assert isinstance(statement, SQLCompiler)
            order = tuple(statement.positiontup or ()) if statement.positional else None
            compiled = (statement.string, order, dict(statement.params))
            self._compiled[dialect.name] = compiled
        return compiled

    def _arguments(self, dialect: Dialect, params: Params) -> tuple[str, Any]:
        sql, order, defaults = self._compile(dialect)
        values = {**defaults, **params} if defaults else params
        if order is None:
            return sql, values
        return sql, tuple(values[name] for name in order)

    def rows(self, connection: Connection, params: Params) -> list[tuple[Any, ...]]:
        """Run the statement once; return every row."""
        sql, arguments = self._arguments(connection.dialect, params)
        with driver_errors(connection, sql, arguments):
            cursor = driver_connection(connection).cursor()
            try:
                cursor.execute(sql, arguments)
                return cursor.fetchall()  # type: ignore[no-any-return]
            finally:
                cursor.close()

    def scalar(self, connection: Connection, params: Params) -> Any:
        """The first column of the first row, or None."""
        rows = self.rows(connection, params)
        return rows[0][0] if rows else None

    def many(self, connection: Connection, rows: Sequence[Params]) -> None:
        """Run the statement once per parameter set, in one driver call."""
        if not rows:
            return
        sql = self._compile(connection.dialect)[0]
        arguments = [self._arguments(connection.dialect, row)[1] for row in rows]
        with driver_errors(connection, sql, arguments):
            cursor = driver_connection(connection).cursor()
            try:
                cursor.executemany(sql, arguments)
            finally:
                cursor.close()


def driver_connection(connection: Connection) -> Any:
    """The DB-API connection under a SQLAlchemy one."""
    return connection.connection.driver_connection


@contextmanager
def driver_errors(connection: Connection, sql: str, arguments: Any) -> Iterator[None]:
    """Turn the driver's exceptions into SQLAlchemy's, as ``Connection.execute`` would."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, None, None)  # closed, or cut by the server
        raise DBAPIError.instance(
            sql,
            arguments,
            error,
            dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=connection.dialect,
        ) from error
