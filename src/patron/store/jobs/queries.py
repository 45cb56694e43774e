"""Async actions in SQL (the tables of migrations 0003 and 0009)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from patron.domain.jobs.model import (
    AsyncAction,
    InputChunk,
    OperationStatus,
    RowOutcome,
    RowResult,
    RowStatus,
    Status,
)
from patron.store.schema import async_action_input_chunks, async_action_results, async_actions
from patron.store.unit_base import UnitBase

_UNFINISHED = (Status.ENQUEUED.value, Status.IN_PROGRESS.value)


class JobQueries(UnitBase):
    """Implements :class:`~patron.domain.async_actions.AsyncActionUnit`."""

    def add_async_action(self, action: AsyncAction, inputs: Iterable[InputChunk]) -> None:
        self.connection.execute(
            insert(async_actions).values(
                id=action.id,
                workspace_id=action.workspace_id,
                type=action.type,
                status=action.status.value,
                operation_status=None,
                request_id=action.request_id,
                total=action.total,
                processed=action.processed,
                failed=action.failed,
                created_at=action.created_at,
                updated_at=action.updated_at,
            )
        )
        statement = insert(async_action_input_chunks)
        for chunk in inputs:  # one at a time: the input may be larger than memory
            self.connection.execute(
                statement,
                {
                    "action_id": action.id,
                    "first_row": chunk.first_row,
                    "rows_json": chunk.rows_json,
                },
            )

    def get_async_action(self, workspace_id: str | None, action_id: str) -> AsyncAction | None:
        query = select(async_actions).where(async_actions.c.id == action_id)
        if workspace_id is not None:
            query = query.where(async_actions.c.workspace_id == workspace_id)
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _action(row)

    def list_async_actions(
        self, workspace_id: str, *, limit: int, created_before: datetime | None
    ) -> list[AsyncAction]:
        query = select(async_actions).where(async_actions.c.workspace_id == workspace_id)
        if created_before is not None:
            query = query.where(async_actions.c.created_at < created_before)
        query = query.order_by(async_actions.c.created_at.desc(), async_actions.c.id.desc())
        return [_action(row) for row in self.connection.execute(query.limit(limit)).mappings()]

    def unfinished_async_actions(self) -> list[AsyncAction]:
        query = (
            select(async_actions)
            .where(async_actions.c.status.in_(_UNFINISHED))
            .order_by(async_actions.c.created_at, async_actions.c.id)
        )
        return [_action(row) for row in self.connection.execute(query).mappings()]

    def async_action_input(self, action_id: str, row: int) -> InputChunk | None:
        chunks = async_action_input_chunks
        query = (
            select(chunks.c.first_row, chunks.c.rows_json)
            .where(chunks.c.action_id == action_id, chunks.c.first_row <= row)
            .order_by(chunks.c.first_row.desc())
            .limit(1)
        )
        found = self.connection.execute(query).first()
        return None if found is None else InputChunk(found.first_row, found.rows_json)

    def advance_async_action(
        self, action_id: str, *, expected: int, processed: int, failed: int, now: datetime
    ) -> bool:
        result = self.connection.execute(
            update(async_actions)
            .where(
                async_actions.c.id == action_id,
                async_actions.c.processed == expected,
                async_actions.c.status.in_(_UNFINISHED),
            )
            .values(
                processed=processed,
                failed=async_actions.c.failed + failed,
                status=Status.IN_PROGRESS.value,
                started_at=func.coalesce(async_actions.c.started_at, now),
                updated_at=now,
            )
        )
        return result.rowcount == 1

    def finish_async_action(
        self, action_id: str, status: Status, operation: OperationStatus, now: datetime
    ) -> None:
        self.connection.execute(
            update(async_actions)
            .where(async_actions.c.id == action_id, async_actions.c.status.in_(_UNFINISHED))
            .values(
                status=status.value,
                operation_status=operation.value,
                started_at=func.coalesce(async_actions.c.started_at, now),
                finished_at=now,
                updated_at=now,
            )
        )
        self.connection.execute(
            delete(async_action_input_chunks).where(
                async_action_input_chunks.c.action_id == action_id
            )
        )

    def add_async_action_results(self, action_id: str, results: Sequence[RowResult]) -> None:
        if not results:
            return
        self.connection.execute(
            insert(async_action_results),
            [
                {
                    "action_id": action_id,
                    "row": result.row,
                    "status": result.outcome.status.value,
                    "record_id": result.outcome.record_id,
                    "record_key": result.outcome.record_key,
                    "error": result.outcome.error,
                }
                for result in results
            ],
        )

    def list_async_action_results(
        self,
        action_id: str,
        *,
        status: RowStatus | None = None,
        after_row: int = -1,
        limit: int | None = None,
    ) -> list[RowResult]:
        results = async_action_results
        query = select(results).where(results.c.action_id == action_id, results.c.row > after_row)
        if status is not None:
            query = query.where(results.c.status == status.value)
        query = query.order_by(results.c.row).limit(limit)
        return [
            RowResult(
                row["row"],
                RowOutcome(
                    RowStatus(row["status"]), row["record_id"], row["record_key"], row["error"]
                ),
            )
            for row in self.connection.execute(query).mappings()
        ]

    def count_async_action_results(self, action_id: str) -> dict[RowStatus, int]:
        results = async_action_results
        query = (
            select(results.c.status, func.count())
            .where(results.c.action_id == action_id)
            .group_by(results.c.status)
        )
        return {RowStatus(status): count for status, count in self.connection.execute(query)}


def _action(row: Any) -> AsyncAction:
    operation = row["operation_status"]
    return AsyncAction(
        id=row["id"],
        workspace_id=row["workspace_id"],
        type=row["type"],
        status=Status(row["status"]),
        operation_status=None if operation is None else OperationStatus(operation),
        request_id=row["request_id"],
        total=row["total"],
        processed=row["processed"],
        failed=row["failed"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
