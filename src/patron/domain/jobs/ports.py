"""What the job runner needs from storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from patron.domain.jobs.model import AsyncAction, OperationStatus, RowResult, Status


class JobUnit(Protocol):
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


class JobObserver(Protocol):
    """Told of the progress of bulk jobs (for the metrics)."""

    def job_accepted(self, type_: str, rows: int) -> None: ...

    def chunk_applied(self, type_: str, rows: int, failed: int) -> None:
        """A chunk of ``rows`` committed; ``failed`` of them were reported failed."""
        ...

    def job_finished(self, type_: str, status: str) -> None:
        """The job ended as ``status`` (DONE or FAILED)."""
        ...
