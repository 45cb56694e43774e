"""Async actions: bulk jobs accepted at once (202) and finished in the background.

A job is stored with its whole input before the request is answered, so an
accepted job is never forgotten. A runner in every Patron process works
through unfinished jobs, oldest first, in chunks: each chunk's changes, its
per-row results and the job's ``processed`` count commit in ONE transaction,
and only if ``processed`` still has the value the chunk started from. So a
restart resumes a job exactly where it stopped, and two processes working on
the same job never apply a chunk twice (the loser's transaction rolls back).

What a row means is up to the job's type: a :data:`RowHandler` registered
for it applies a chunk of rows inside the transaction and reports each row's
outcome. A row that fails (bad data) is reported and skipped; the job goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from patron.domain.background import BackgroundLoop
from patron.domain.clock import utcnow
from patron.domain.errors import NotFound

if TYPE_CHECKING:  # ports names this module's unit protocol: import only for types
    from patron.domain.ports import Store

log = logging.getLogger(__name__)

ID_PREFIX = "aa_"
MAX_CHUNK_FAILURES = 3


class Status(StrEnum):
    ENQUEUED = "ENQUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"


class OperationStatus(StrEnum):
    SUCCESS = "SUCCESS"  # every row was processed (some may have failed: see the results)
    FAILED = "FAILED"  # the job itself could not be completed


class RowStatus(StrEnum):
    CREATED = "CREATED"  # no such record: one was made (Voucherify: found=false, updated=true)
    UPDATED = "UPDATED"  # found and updated
    FAILED = "FAILED"  # not applied; ``error`` says why


@dataclass(frozen=True, slots=True)
class AsyncAction:
    id: str
    workspace_id: str
    type: str
    status: Status
    operation_status: OperationStatus | None
    request_id: str
    total: int
    processed: int
    failed: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def progress(self) -> int:
        """Per cent of rows processed (0 to 100)."""
        if self.total == 0:
            return 100 if self.status is Status.DONE else 0
        return self.processed * 100 // self.total

    @property
    def processing_time_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.FAILED)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    status: RowStatus
    customer_id: str | None = None
    source_id: str | None = None
    error: dict[str, Any] | None = None  # {"code": …, "message": …} for failed rows


@dataclass(frozen=True, slots=True)
class RowResult:
    row: int  # 0-based position in the job's input
    outcome: RowOutcome


class AsyncActionUnit(Protocol):
    """Storage operations for async actions, inside one transaction."""

    def add_async_action(self, action: AsyncAction, rows: Sequence[Any]) -> None: ...

    def get_async_action(self, workspace_id: str | None, action_id: str) -> AsyncAction | None:
        """One action (of any workspace when ``workspace_id`` is None)."""
        ...

    def list_async_actions(
        self, workspace_id: str, *, limit: int, created_before: datetime | None
    ) -> list[AsyncAction]:
        """Newest first."""
        ...

    def unfinished_async_actions(self) -> list[AsyncAction]:
        """Every ENQUEUED or IN_PROGRESS action, oldest first."""
        ...

    def async_action_rows(self, action_id: str) -> list[Any]: ...

    def advance_async_action(
        self, action_id: str, *, expected: int, processed: int, failed: int, now: datetime
    ) -> bool:
        """Move ``processed`` on from ``expected`` (adding ``failed``), marking the action
        IN_PROGRESS; False if ``processed`` is not ``expected`` any more."""
        ...

    def finish_async_action(
        self, action_id: str, status: Status, operation: OperationStatus, now: datetime
    ) -> None:
        """Mark an unfinished action finished (a finished one stays as it is)."""
        ...

    def add_async_action_results(self, action_id: str, results: Sequence[RowResult]) -> None: ...

    def list_async_action_results(self, action_id: str) -> list[RowResult]: ...


# Applies a chunk of rows (``first`` is the first one's position) in the open
# transaction; one outcome per row, in order.
RowHandler = Callable[[Any, str, Sequence[Any], datetime], list[RowOutcome]]


class ChunkTaken(Exception):
    """Another process committed this chunk first: roll this attempt back."""


class AsyncActionService:
    """Accepts bulk jobs and runs them to completion in the background."""

    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, RowHandler],
        *,
        clock: Callable[[], datetime] = utcnow,
        chunk_size: int = 500,
        idle_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.clock = clock
        self.chunk_size = chunk_size
        # Woken by a new job; else looks again every idle_seconds: another
        # process may have accepted one.
        self._loop = BackgroundLoop("async-actions", self.run_pending, idle_seconds)
        self._rows: dict[str, list[Any]] = {}  # the running job's input, read once

    async def submit(
        self, *, workspace_id: str, type_: str, rows: Sequence[Any], request_id: str | None = None
    ) -> AsyncAction:
        """Store the job (committed before this returns) and wake the runner."""
        if type_ not in self.handlers:
            raise ValueError(f"no handler for async action type {type_!r}")
        now = self.clock()
        action = AsyncAction(
            id=ID_PREFIX + secrets.token_hex(10),
            workspace_id=workspace_id,
            type=type_,
            status=Status.ENQUEUED,
            operation_status=None,
            request_id=request_id or "v-" + secrets.token_hex(12),
            total=len(rows),
            processed=0,
            failed=0,
            created_at=now,
            updated_at=now,
        )
        await self.store.write(lambda unit: unit.add_async_action(action, rows), size=len(rows))
        self._loop.wake()
        return action

    async def get(self, *, workspace_id: str, action_id: str) -> AsyncAction:
        found = await self.store.read(lambda unit: unit.get_async_action(workspace_id, action_id))
        if found is None:
            raise NotFound(f"no async action {action_id!r}")
        return found

    async def results(self, *, workspace_id: str, action_id: str) -> list[RowResult]:
        """Each processed row's outcome, by position."""
        await self.get(workspace_id=workspace_id, action_id=action_id)
        return await self.store.read(lambda unit: unit.list_async_action_results(action_id))

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
        rows = self._rows.get(action.id)
        if rows is None:
            rows = await self.store.read(lambda unit: unit.async_action_rows(action.id))
            self._rows = {action.id: rows}  # only the job being run is kept in memory
        current, failures = action, 0
        while current.processed < current.total:
            start = current.processed
            chunk = rows[start : start + self.chunk_size]
            work = partial(
                self._apply_chunk, action=current, handler=handler, start=start, chunk=chunk
            )
            try:
                await self.store.write(work, size=len(chunk))
            except ChunkTaken:
                pass  # another process did it; carry on from where the job now is
            except Exception:
                # Transient database faults were already retried by the store;
                # a chunk that keeps failing fails its job instead of looping.
                failures += 1
                log.exception("async action %s: chunk at row %d failed", action.id, start)
                if failures >= MAX_CHUNK_FAILURES:
                    await self._finish(current, Status.FAILED, OperationStatus.FAILED)
                    return
                await asyncio.sleep(0.1 * 2**failures)
                continue
            fresh = await self.store.read(lambda unit: unit.get_async_action(None, action.id))
            if fresh is None or fresh.finished:
                return
            current = fresh
        await self._finish(current, Status.DONE, OperationStatus.SUCCESS)
        self._rows.pop(action.id, None)

    def _apply_chunk(
        self,
        unit: Any,
        *,
        action: AsyncAction,
        handler: RowHandler,
        start: int,
        chunk: Sequence[Any],
    ) -> None:
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

    async def _finish(
        self, action: AsyncAction, status: Status, operation: OperationStatus
    ) -> AsyncAction:
        now = self.clock()
        await self.store.write(
            lambda unit: unit.finish_async_action(action.id, status, operation, now)
        )
        return replace(action, status=status, operation_status=operation, finished_at=now)
