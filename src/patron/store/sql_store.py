"""The store the domain uses: group-committed writes, pooled reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from patron.domain.changes import Subscriptions
from patron.domain.errors import Unavailable
from patron.store.committer import (
    CommitFailed,
    CommitObserver,
    GroupCommitter,
    JobFailed,
    TransientError,
)
from patron.store.database import Database
from patron.store.faults import (
    Fault,
    OutageLog,
    StorageFault,
    classify,
    is_unique_violation,
    reason,
)
from patron.store.unit import SqlUnit

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")

# What the database may raise, rather than the work run on it.
_STORE_ERRORS = (DBAPIError, StorageFault, PoolTimeout)


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
        self._outage = OutageLog(database.name)  # said once, by reads and writes alike
        self._committer = GroupCommitter(
            self._transaction,
            queue_limit=queue_limit,
            batch_limit=batch_limit,
            outage=self._outage,
            observer=observer,
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
            with (
                self.database.transaction(reading=True),
                self.database.reader.connect() as connection,
                connection.begin(),
            ):
                result = work(SqlUnit(connection, self.subscriptions))
        except _STORE_ERRORS as error:
            fault = classify(error)
            if fault is Fault.UNEXPECTED:
                raise  # a bug or a refused value: the caller answers 500 and logs it once
            cause = self.database.redact(reason(error))
            if fault is Fault.RACE or isinstance(error, StorageFault):  # said where it arose
                log.debug("a read was refused: %s", cause)
            else:
                self._outage.failed(cause)
            raise Unavailable("the database is not available; retry later") from error
        self._outage.recovered()
        return result

    def _release_writer(self, error: BaseException | None = None) -> None:
        if self._writer is not None:
            if isinstance(error, DBAPIError) and error.connection_invalidated:
                self._writer.invalidate()  # gone: the pool must not try to reset it
            self._writer.close()
            self._writer = None

    def _transaction(self, works: list[Callable[[Any], Any]]) -> list[Any]:
        try:
            with self.database.transaction(reading=False):
                if self._writer is None:
                    self._writer = self.database.writer.connect()
                connection = self._writer
                with connection.begin() as transaction:
                    unit = SqlUnit(connection, self.subscriptions)
                    results = [_run(work, unit, index) for index, work in enumerate(works)]
                    with self.database.committing():
                        transaction.commit()
        except _STORE_ERRORS as error:
            # Start afresh: the pool checks the next connection before use.
            self._release_writer(error)
            fault = classify(error)
            if fault is Fault.UNEXPECTED:
                raise CommitFailed(error) from error
            cause = self.database.redact(reason(error))
            final = error if is_unique_violation(error) else None
            raise TransientError(cause, race=fault is Fault.RACE, final=final) from error
        return results


def _run(work: Callable[[Any], Any], unit: SqlUnit, index: int) -> Any:
    """One work of a transaction: its own failure fails it alone; the store's, all of them."""
    try:
        return work(unit)
    except DBAPIError as error:
        if classify(error) is Fault.UNEXPECTED:  # a value refused, a broken statement
            raise JobFailed(index, error) from error
        raise  # a lost race or an outage: the whole transaction is tried again
    except Exception as error:
        raise JobFailed(index, error) from error
