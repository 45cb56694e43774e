"""Async actions: bulk jobs accepted at once (202) and finished in the background.

A job is stored with its whole input before the request is answered, so an
accepted job is never forgotten. The input is stored in chunks (staged first,
see :mod:`~patron.domain.jobs.staging`), and read back one chunk at a time:
memory does not grow with a job's size. A runner in every Patron process
works through unfinished jobs, oldest first, in chunks: each chunk's changes,
its per-row results and the job's ``processed`` count commit in ONE
transaction, and only if ``processed`` still has the value the chunk started
from. So a restart resumes a job exactly where it stopped, and two processes
working on the same job never apply a chunk twice (the loser's transaction
rolls back).

What a row means is up to the job's type: a :data:`RowHandler` registered
for it applies a chunk of rows inside the transaction and reports each row's
outcome. A row that fails (bad data) is reported and skipped; the job goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar, cast

import orjson

from patron.domain.background import BackgroundLoop
from patron.domain.clock import utcnow
from patron.domain.errors import NotFound, RetryLater
from patron.domain.jobs.model import (
    AsyncAction,
    InputChunk,
    OperationStatus,
    RowOutcome,
    RowResult,
    RowStatus,
    Status,
)
from patron.domain.jobs.ports import JobObserver, JobUnit
from patron.domain.jobs.staging import StagedInput
from patron.domain.store import Store

log = logging.getLogger(__name__)

ID_PREFIX = "aa_"
MAX_CHUNK_FAILURES = 3

U = TypeVar("U", bound=JobUnit)


# Applies a chunk of rows (``first`` is the first one's position) in the open
# transaction; one outcome per row, in order.
RowHandler = Callable[[U, str, Sequence[Any], datetime], list[RowOutcome]]


class ChunkTaken(Exception):
    """Another process committed this chunk first: roll this attempt back."""


class AsyncActionService(Generic[U]):
    """Accepts bulk jobs and runs them to completion in the background."""

    def __init__(
        self,
        store: Store[U],
        handlers: Mapping[str, RowHandler[U]],
        *,
        clock: Callable[[], datetime] = utcnow,
        chunk_size: int = 500,
        idle_seconds: float = 2.0,
        observer: JobObserver | None = None,
    ) -> None:
        self.store = store
        self.observer = observer
        self.handlers = dict(handlers)
        self.clock = clock
        self.chunk_size = chunk_size
        # Woken by a new job; else looks again every idle_seconds: another
        # process may have accepted one.
        self._loop = BackgroundLoop("async-actions", self.run_pending, idle_seconds)

    async def submit(
        self, *, workspace_id: str, type_: str, rows: Iterable[Any], request_id: str | None = None
    ) -> AsyncAction:
        """Store the job with all of ``rows`` (committed before this returns: all or
        nothing), and wake the runner.

        ``rows`` may be a stream (a file being parsed): it is read once, in a
        worker thread, and whatever reading it raises (say, Invalid for a file
        that turns out to be unusable) propagates with nothing stored.
        """
        if type_ not in self.handlers:
            raise ValueError(f"no handler for async action type {type_!r}")
        with StagedInput(self.chunk_size) as staged:
            await asyncio.to_thread(staged.add, rows)
            action = self._new_action(workspace_id, type_, staged.rows, request_id)
            # Back-pressure counts the statements the copy runs, one per chunk:
            # copying a chunk costs the writer far less than applying its rows.
            await self.store.write(
                lambda unit: unit.add_async_action(action, staged.input_chunks()),
                size=max(staged.chunks, 1),
            )
        if self.observer is not None:
            self.observer.job_accepted(type_, action.total)
        self._loop.wake()
        return action

    def _new_action(
        self, workspace_id: str, type_: str, total: int, request_id: str | None
    ) -> AsyncAction:
        now = self.clock()
        return AsyncAction(
            id=ID_PREFIX + secrets.token_hex(10),
            workspace_id=workspace_id,
            type=type_,
            status=Status.ENQUEUED,
            operation_status=None,
            request_id=request_id or "v-" + secrets.token_hex(12),
            total=total,
            processed=0,
            failed=0,
            created_at=now,
            updated_at=now,
        )

    async def get(self, *, workspace_id: str, action_id: str) -> AsyncAction:
        found = await self.store.read(lambda unit: unit.get_async_action(workspace_id, action_id))
        if found is None:
            raise NotFound("async_action", action_id, f"no async action {action_id!r}")
        return found

    async def results(
        self,
        *,
        workspace_id: str,
        action_id: str,
        status: RowStatus | None = None,
        after_row: int = -1,
        limit: int | None = None,
    ) -> list[RowResult]:
        """Processed rows' outcomes, by position: all of them, or a page (those after
        ``after_row``, of ``status`` if given, at most ``limit``)."""
        await self.get(workspace_id=workspace_id, action_id=action_id)
        return await self.store.read(
            lambda unit: unit.list_async_action_results(
                action_id, status=status, after_row=after_row, limit=limit
            )
        )

    async def result_counts(self, *, workspace_id: str, action_id: str) -> dict[RowStatus, int]:
        """How many processed rows ended in each status."""
        await self.get(workspace_id=workspace_id, action_id=action_id)
        return await self.store.read(lambda unit: unit.count_async_action_results(action_id))

    async def list(
        self, *, workspace_id: str, limit: int = 10, created_before: datetime | None = None
    ) -> list[AsyncAction]:
        return await self.store.read(
            lambda unit: unit.list_async_actions(
                workspace_id, limit=limit, created_before=created_before
            )
        )

    # -- the runner ---------------------------------------------------------------

    def start(self) -> None:
        """Run unfinished jobs in the background (those left by a restart first)."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop between chunks; unfinished jobs resume at the next start."""
        await self._loop.stop()

    async def run_pending(self) -> int:
        """Work through every unfinished job now; return how many were finished."""
        finished = 0
        while True:
            pending = await self.store.read(lambda unit: unit.unfinished_async_actions())
            if not pending:
                return finished
            for action in pending:
                await self._process(action)
                finished += 1

    async def _process(self, action: AsyncAction) -> None:
        handler = self.handlers.get(action.type)
        if handler is None:
            await self._finish(action, Status.FAILED, OperationStatus.FAILED)
            return
        current, failures = action, 0
        # The stored chunk being worked through: its first row's position, its rows.
        first, rows = 0, cast(Sequence[Any], ())
        while current.processed < current.total:
            start = current.processed
            if not first <= start < first + len(rows):
                loaded = await self._input_at(current, start)
                if loaded is None:
                    return
                first, rows = loaded
            chunk = rows[start - first : start - first + self.chunk_size]
            work = partial(
                self._apply_chunk, action=current, handler=handler, start=start, chunk=chunk
            )
            try:
                failed = await self.store.write(work, size=len(chunk))
                if self.observer is not None:
                    self.observer.chunk_applied(action.type, len(chunk), failed)
            except ChunkTaken:
                # Expected with several processes: carry on from where the job now is.
                log.debug(
                    "async action %s: another process took the chunk at row %d", action.id, start
                )
            except Exception as error:
                # Transient database faults were already retried by the store;
                # a chunk that keeps failing fails its job instead of looping.
                failures += 1
                if failures >= MAX_CHUNK_FAILURES:
                    _log_chunk_failure(action.id, start, failures, error)
                    await self._finish(current, Status.FAILED, OperationStatus.FAILED)
                    return
                log.warning(
                    "async action %s: the chunk at row %d failed (%s: %s); trying again",
                    action.id,
                    start,
                    type(error).__name__,
                    error,
                )
                await asyncio.sleep(0.1 * 2**failures)
                continue
            fresh = await self.store.read(lambda unit: unit.get_async_action(None, action.id))
            if fresh is None or fresh.finished:
                return
            current = fresh
        await self._finish(current, Status.DONE, OperationStatus.SUCCESS)

    async def _input_at(self, action: AsyncAction, row: int) -> tuple[int, Sequence[Any]] | None:
        """The stored chunk holding ``row`` (its first row's position and its rows), or
        None when the job is over: finished meanwhile by another process, or failed
        here because its input is missing."""
        stored = await self.store.read(
            lambda unit: _decoded(unit.async_action_input(action.id, row))
        )
        if stored is not None and stored[0] <= row < stored[0] + len(stored[1]):
            return stored
        fresh = await self.store.read(lambda unit: unit.get_async_action(None, action.id))
        if fresh is not None and not fresh.finished:
            log.error("async action %s: its input has no row %d; the job fails", action.id, row)
            await self._finish(fresh, Status.FAILED, OperationStatus.FAILED)
        return None

    def _apply_chunk(
        self,
        unit: U,
        *,
        action: AsyncAction,
        handler: RowHandler[U],
        start: int,
        chunk: Sequence[Any],
    ) -> int:
        """Apply the chunk; returns how many of its rows failed."""
        now = self.clock()
        outcomes = handler(unit, action.workspace_id, chunk, now)
        failed = sum(outcome.status is RowStatus.FAILED for outcome in outcomes)
        taken = not unit.advance_async_action(
            action.id, expected=start, processed=start + len(chunk), failed=failed, now=now
        )
        if taken:
            raise ChunkTaken(action.id)
        results = [RowResult(start + i, outcome) for i, outcome in enumerate(outcomes)]
        unit.add_async_action_results(action.id, results)
        return failed

    async def _finish(
        self, action: AsyncAction, status: Status, operation: OperationStatus
    ) -> AsyncAction:
        now = self.clock()
        await self.store.write(
            lambda unit: unit.finish_async_action(action.id, status, operation, now)
        )
        if self.observer is not None:
            self.observer.job_finished(action.type, status.value)
        return replace(action, status=status, operation_status=operation, finished_at=now)


def _decoded(chunk: InputChunk | None) -> tuple[int, Sequence[Any]] | None:
    """A stored chunk's first row's position and its rows (decoded in the reading thread)."""
    if chunk is None:
        return None
    rows = orjson.loads(chunk.rows_json)
    return chunk.first_row, rows if isinstance(rows, list) else []


def _log_chunk_failure(action_id: str, start: int, failures: int, error: Exception) -> None:
    """Once per failed job: with the traceback, unless the database was out of reach."""
    message = "async action %s: the chunk at row %d failed %d times; the job has failed"
    if isinstance(error, RetryLater):  # the store has reported the outage already
        log.error(message + " (%s)", action_id, start, failures, error)
    else:
        log.error(message, action_id, start, failures, exc_info=error)
