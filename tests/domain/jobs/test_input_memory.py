"""A bulk job's input costs memory by the chunk, not by the job.

A CSV import is followed from the uploaded file to the last applied chunk —
the file parsed as a stream, the rows staged, stored and read back chunk by
chunk, each chunk's results written — under tracemalloc, which counts every
Python allocation of every thread (the store's writer and readers too). A
file of eight times the rows must not peak much higher: when the input was
one JSON document, the peak grew with the rows (about 1 KB a row).
"""

from __future__ import annotations

import tempfile
import tracemalloc
from typing import Any

import pytest

from patron.domain.customers.rows import CSV_IMPORT
from patron.domain.jobs.model import RowOutcome, RowStatus, Status
from patron.domain.jobs.runner import AsyncActionService
from patron.services import Services
from patron.surfaces.voucherify.customer_rows import csv_rows
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio


def outcomes(unit: Any, workspace_id: str, rows: Any, now: Any) -> list[RowOutcome]:
    """The handler: a result per row, as applying customers reports (applying them
    costs a chunk's worth of memory whatever the job's size, and time this test
    does not need to spend)."""
    return [RowOutcome(RowStatus.CREATED, "cust_x", row.get("source_id")) for row in rows]


async def peak_of_import(services: Services, workspace_id: str, rows: int) -> int:
    """The most memory allocated at once while importing a CSV of ``rows`` rows, in bytes."""
    jobs = AsyncActionService(services.store, {CSV_IMPORT: outcomes}, chunk_size=500)
    with tempfile.TemporaryFile() as file:
        file.write(b"Source_id,Name,Email,Address_City,plan\n")
        for n in range(rows):
            file.write(b"imp-%07d,Customer %d,c%d@example.com,London,pro\n" % (n, n, n))
        file.seek(0)
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        action = await jobs.submit(workspace_id=workspace_id, type_=CSV_IMPORT, rows=csv_rows(file))
        assert await jobs.run_pending() == 1
        peak = tracemalloc.get_traced_memory()[1] - baseline
    done = await jobs.get(workspace_id=workspace_id, action_id=action.id)
    assert (done.status, done.processed) == (Status.DONE, rows)
    return peak


async def test_an_imports_peak_memory_does_not_grow_with_its_rows(services: Services) -> None:
    workspace = await make_workspace(services)
    tracemalloc.start()
    try:
        await peak_of_import(services, workspace.id, 2_000)  # warm caches: compiled statements
        small = await peak_of_import(services, workspace.id, 2_000)
        large = await peak_of_import(services, workspace.id, 16_000)
    finally:
        tracemalloc.stop()
    # Eight times the rows; when memory followed the rows, eight times the peak.
    assert large < 1.5 * small + 256 * 1024, (small, large)
