"""Bulk jobs (async actions) and their per-row results, as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


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
class InputChunk:
    """Consecutive rows of a job's input, as stored: a JSON array of them, as text.

    A job's input is stored as chunks so that neither accepting nor running a
    job ever holds more than one chunk of it in memory; the store keeps the
    text as it is, and only the runner decodes it.
    """

    first_row: int  # the 0-based position of the chunk's first row in the job's input
    rows_json: str


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What became of one row: the record it made or changed, named by the job's type."""

    status: RowStatus
    record_id: str | None = None  # Patron's id of the record (a customer's ``cust_…``)
    record_key: str | None = None  # the caller's key for it (a customer's source_id)
    error: dict[str, Any] | None = None  # {"code": …, "message": …} for failed rows


@dataclass(frozen=True, slots=True)
class RowResult:
    row: int  # 0-based position in the job's input
    outcome: RowOutcome
