"""Group commit: many requests' writes share one transaction and one fsync.

Requests hand their work to :meth:`GroupCommitter.submit` and wait. One
writer thread takes everything that is waiting, runs it in one transaction,
commits, and only then wakes the requests: every acknowledgement follows a
durable commit, and under load the cost of a commit is shared by all the
requests that arrived while the previous one was running. There is no timer:
an idle server commits a lone request at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from patron.domain.errors import PatronError, RateLimited, Unavailable

log = logging.getLogger(__name__)

Work = Callable[[Any], Any]


class TransientError(Exception):
    """A store fault worth retrying (lock timeout, lost connection, racing insert)."""


class JobFailed(Exception):
    """Job ``index`` of a transaction raised ``error``; the transaction was rolled back."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


# Runs jobs in one transaction and returns their results, or raises
# JobFailed (a job's own error) or TransientError (the store's).
Transaction = Callable[[list[Work]], list[Any]]


@dataclass(slots=True)
class _Job:
    work: Work
    size: int
    future: asyncio.Future[Any] = field(repr=False)


class GroupCommitter:
    """Serialises writes through one thread, batching whatever is waiting."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        queue_limit: int,
        batch_limit: int,
        retries: int = 5,
    ) -> None:
        self._transaction = transaction
        self._queue_limit = queue_limit
        self._batch_limit = batch_limit
        self._retries = retries
        self._pending: deque[_Job] = deque()
        self._pending_size = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patron-writer")

    async def submit(self, work: Work, size: int = 1) -> Any:
        """Run ``work`` in a write transaction; return its result once committed."""
        if self._pending and self._pending_size + size > self._queue_limit:
            raise RateLimited("too many writes are waiting for the database", retry_after=1)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run(), name="patron-group-commit")
        job = _Job(work, size, loop.create_future())
        self._pending.append(job)
        self._pending_size += size
        assert self._wakeup is not None
        self._wakeup.set()
        return await job.future

    async def close(self) -> None:
        """Finish everything already submitted, then stop the writer thread."""
        if self._task is not None and not self._task.done():
            # Jobs run in order: once this no-op is committed, so is all before it.
            with contextlib.suppress(PatronError):  # a failing store has nothing to finish
                await self.submit(lambda _unit: None, size=0)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                jobs = self._take()
                outcomes = await loop.run_in_executor(self._executor, self._commit, jobs)
                for job, (ok, value) in zip(jobs, outcomes, strict=True):
                    if job.future.done():  # the request went away; its work is committed
                        continue
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value)

    def _take(self) -> list[_Job]:
        jobs = [self._pending.popleft()]
        size = jobs[0].size
        while self._pending and size + self._pending[0].size <= self._batch_limit:
            job = self._pending.popleft()
            jobs.append(job)
            size += job.size
        self._pending_size -= size
        return jobs

    def _commit(self, jobs: list[_Job]) -> list[tuple[bool, Any]]:
        """In the writer thread: commit the jobs together, isolating failures."""
        outcomes: list[tuple[bool, Any] | None] = [None] * len(jobs)
        remaining = list(range(len(jobs)))
        attempt = 0
        while remaining:
            try:
                results = self._transaction([jobs[i].work for i in remaining])
            except JobFailed as failed:
                # That job alone fails; the others run again without it.
                index = remaining.pop(failed.index)
                outcomes[index] = (False, _as_domain_error(failed.error))
                continue
            except TransientError as error:
                attempt += 1
                if attempt > self._retries:
                    log.error("giving up on a write after %d attempts: %s", attempt, error)
                    fault = Unavailable("the database is not available; retry later")
                    for index in remaining:
                        outcomes[index] = (False, fault)
                    break
                time.sleep(min(0.01 * 2**attempt, 0.5))
                continue
            for index, result in zip(remaining, results, strict=True):
                outcomes[index] = (True, result)
            break
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]


def _as_domain_error(error: BaseException) -> BaseException:
    if not isinstance(error, PatronError):
        log.error("a write failed unexpectedly", exc_info=error)
    return error
