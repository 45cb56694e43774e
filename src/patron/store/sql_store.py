"""The store the domain uses: group-committed writes, pooled reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from patron.domain.changes import Subscriptions
from patron.domain.errors import Unavailable
from patron.store.committer import CommitObserver, GroupCommitter, JobFailed, TransientError
from patron.store.database import Database
from patron.store.unit import SqlUnit

T = TypeVar("T")
P = TypeVar("P")

# PostgreSQL SQLSTATEs that mean "try the same thing again".
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03", "57014"}


def is_transient(error: DBAPIError) -> bool:
    """Lock timeouts, lost connections, serialisation failures and racing inserts."""
    if isinstance(error, OperationalError | IntegrityError) or error.connection_invalidated:
        return True
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


class SqlStore:
    """Implements :class:`~patron.domain.store.Store` ``[SqlUnit]`` on a :class:`Database`.

    Every unit it opens carries ``subscriptions``: the listeners that run, in
    the same transaction, when a service publishes a change.
    """

    def __init__(
        self,
        database: Database,
        *,
        subscriptions: Subscriptions[SqlUnit] | None = None,
        queue_limit: int = 50_000,
        batch_limit: int = 5_000,
        read_threads: int = 4,
        observer: CommitObserver | None = None,
    ) -> None:
        self.database = database
        self.subscriptions = subscriptions if subscriptions is not None else Subscriptions()
        # The writer thread's connection, kept between transactions (checking
        # one out of the pool and back costs more than a small transaction).
        self._writer: Connection | None = None
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="patron-read")
        self._committer = GroupCommitter(
            self._transaction, queue_limit=queue_limit, batch_limit=batch_limit, observer=observer
        )

    async def write(self, work: Callable[[SqlUnit], T], *, size: int = 1) -> T:
        result: T = await self._committer.submit(work, size)
        return result

    async def write_batched(
        self,
        key: Hashable,
        work: Callable[[SqlUnit, list[P]], Sequence[T]],
        payload: P,
        *,
        size: int,
    ) -> T:
        result: T = await self._committer.submit_batch(key, work, payload, size)
        return result

    async def read(self, work: Callable[[SqlUnit], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._read, work)

    async def close(self) -> None:
        await self._committer.close()
        self._release_writer()
        self._readers.shutdown(wait=True)
        self.database.dispose()

    def _read(self, work: Callable[[SqlUnit], T]) -> T:
        try:
            with self.database.reader.connect() as connection, connection.begin():
                return work(SqlUnit(connection, self.subscriptions))
        except DBAPIError as error:
            raise Unavailable("the database is not available; retry later") from error

    def _release_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _transaction(self, works: list[Callable[[Any], Any]]) -> list[Any]:
        results: list[Any] = []
        try:
            if self._writer is None:
                self._writer = self.database.writer.connect()
            connection = self._writer
            with connection.begin():
                unit = SqlUnit(connection, self.subscriptions)
                for index, work in enumerate(works):
                    try:
                        results.append(work(unit))
                    except DBAPIError as error:
                        if is_transient(error):
                            raise
                        raise JobFailed(index, error) from error
                    except Exception as error:
                        raise JobFailed(index, error) from error
        except DBAPIError as error:
            # Start afresh: the pool checks the next connection before use.
            self._release_writer()
            raise TransientError(str(error)) from error
        return results
