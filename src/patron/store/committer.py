"""Group commit: many requests' writes share one transaction and one fsync.

Requests hand their work to :meth:`GroupCommitter.submit` and wait. One
writer thread takes everything that is waiting, runs it in one transaction,
commits, and only then wakes the requests: every acknowledgement follows a
durable commit, and under load the cost of a commit is shared by all the
requests that arrived while the previous one was running. There is no timer:
an idle server commits a lone request at once.

*Batchable* work goes further: requests that submit the same batch function
under the same key (say, tracking calls of one workspace) are run as one call
with all their payloads, so fifty single-event requests cost one dedupe
query, one identity lookup and one insert, not fifty of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from patron.domain.errors import PatronError, RateLimited, Unavailable
from patron.store.faults import OutageLog

log = logging.getLogger(__name__)

Work = Callable[[Any], Any]
# Called with the unit of work and a list of payloads; returns one result each.
BatchWork = Callable[[Any, list[Any]], Sequence[Any]]


class TransientError(Exception):
    """A store fault worth retrying: a race lost to another transaction, or an outage.

    ``final`` is what the jobs get if every retry fails too; None means
    :class:`Unavailable` (503), right for an outage or for a lock that stays
    contended, wrong for a unique violation that keeps coming back (a bug).
    """

    def __init__(
        self, message: str, *, race: bool = False, final: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.race = race
        self.final = final


class CommitFailed(Exception):
    """The transaction failed as a whole, for a reason no retry can fix (a bug)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class JobFailed(Exception):
    """Work ``index`` of a transaction raised ``error``; the transaction was rolled back."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class CommitObserver(Protocol):
    """Told of every group commit (for the metrics), on the event loop."""

    def batch_committed(self, messages: int, seconds: float, waiting: int) -> None:
        """A transaction of ``messages`` took ``seconds``; ``waiting`` messages queue now."""
        ...


# Runs works in one transaction and returns their results, or raises
# JobFailed (a work's own error), TransientError or CommitFailed (the store's).
Transaction = Callable[[list[Work]], list[Any]]


@dataclass(slots=True)
class _Job:
    work: Work | None
    size: int
    future: asyncio.Future[Any] = field(repr=False)
    batch: tuple[Hashable, BatchWork, Any] | None = None  # (key, function, payload)


@dataclass(slots=True)
class _Step:
    """One call inside the transaction, serving one job or several combined ones."""

    work: Work
    members: list[int]  # indexes of the jobs it serves
    batched: bool  # the result is a list, one per member


class GroupCommitter:
    """Serialises writes through one thread, batching whatever is waiting."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        queue_limit: int,
        batch_limit: int,
        retries: int = 5,
        outage: OutageLog | None = None,
        observer: CommitObserver | None = None,
    ) -> None:
        self._transaction = transaction
        self._outage = outage if outage is not None else OutageLog("database")
        self._observer = observer
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
        return await self._enqueue(work, size, None)

    async def submit_batch(self, key: Hashable, work: BatchWork, payload: Any, size: int) -> Any:
        """Like :meth:`submit`, but may share one ``work`` call with same-key payloads."""
        return await self._enqueue(None, size, (key, work, payload))

    async def _enqueue(
        self, work: Work | None, size: int, batch: tuple[Hashable, BatchWork, Any] | None
    ) -> Any:
        if self._pending and self._pending_size + size > self._queue_limit:
            raise RateLimited("too many writes are waiting for the database", retry_after=1)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run(), name="patron-group-commit")
        job = _Job(work, size, loop.create_future(), batch)
        self._pending.append(job)
        self._pending_size += size
        assert self._wakeup is not None
        self._wakeup.set()
        return await job.future

    async def close(self) -> None:
        """Finish everything already submitted, then stop the writer thread."""
        if self._task is not None and not self._task.done():
            # Jobs run in order: once this no-op is committed, so is all before it.
            with contextlib.suppress(Exception):  # a failing store has nothing to finish
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
                started = time.perf_counter()
                outcomes = await loop.run_in_executor(self._executor, self._commit, jobs)
                if self._observer is not None:
                    seconds = time.perf_counter() - started
                    size = sum(job.size for job in jobs)
                    self._observer.batch_committed(size, seconds, self._pending_size)
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
        steps = _combine(jobs)
        attempt = 0
        while steps:
            try:
                results = self._transaction([step.work for step in steps])
            except JobFailed as failed:
                step = steps.pop(failed.index)
                if len(step.members) > 1:  # find the culprit: run the members one by one
                    steps.extend(_combine([jobs[i] for i in step.members], step.members))
                else:
                    outcomes[step.members[0]] = (False, _job_error(failed.error))
                continue
            except TransientError as error:
                attempt += 1
                if attempt <= self._retries:
                    # Expected (a lost race) or already reported (an outage, once).
                    log.debug("retrying a write (attempt %d): %s", attempt, error)
                    time.sleep(min(0.01 * 2**attempt, 0.5))
                    continue
                _fail_all(steps, outcomes, error.final or self._give_up(error, attempt))
                break
            except Exception as error:  # CommitFailed, or a bug of the store's
                cause = error.error if isinstance(error, CommitFailed) else error
                _fail_all(steps, outcomes, _job_error(cause))
                break
            self._outage.recovered()
            for step, result in zip(steps, results, strict=True):
                values = result if step.batched else [result]
                for index, value in zip(step.members, values, strict=True):
                    outcomes[index] = (True, value)
            break
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]

    def _give_up(self, error: TransientError, attempts: int) -> Unavailable:
        if error.race:  # not an outage: a lock that other transactions keep taking
            log.error("giving up on a write after %d attempts that lost races: %s", attempts, error)
        else:
            self._outage.failed(str(error))
        return Unavailable("the database is not available; retry later")


def _fail_all(
    steps: list[_Step], outcomes: list[tuple[bool, Any] | None], error: BaseException
) -> None:
    for step in steps:
        for index in step.members:
            outcomes[index] = (False, error)


def _combine(jobs: list[_Job], indexes: list[int] | None = None) -> list[_Step]:
    """Steps for ``jobs``: batchable jobs with the same key and function share one.

    When ``indexes`` is given (re-running a failed combined step), every job
    gets a step of its own.
    """
    split = indexes is not None
    indexes = indexes if indexes is not None else list(range(len(jobs)))
    steps: list[_Step] = []
    shared: dict[tuple[Hashable, BatchWork], tuple[list[int], list[Any]]] = {}
    for index, job in zip(indexes, jobs, strict=True):
        if job.batch is None:
            assert job.work is not None
            steps.append(_Step(job.work, [index], batched=False))
            continue
        key, function, payload = job.batch
        if split:
            steps.append(_Step(_call(function, [payload]), [index], batched=True))
            continue
        members, payloads = shared.setdefault((key, function), ([], []))
        members.append(index)
        payloads.append(payload)
    for (_, function), (members, payloads) in shared.items():
        steps.append(_Step(_call(function, payloads), members, batched=True))
    return steps


def _call(function: BatchWork, payloads: list[Any]) -> Work:
    return lambda unit: function(unit, payloads)


def _job_error(error: BaseException) -> BaseException:
    """The error a job's submitter gets; whoever handles it logs it, if it is unexpected.

    (Not logged here: a request's surface logs an unexpected error once, with
    the request's id, and some errors are expected by their submitter, like a
    bulk-job chunk that another process committed first.)
    """
    if not isinstance(error, PatronError):
        log.debug("a write failed: %r", error)
    return error
