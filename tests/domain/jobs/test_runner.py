"""Bulk customer jobs (async actions): accepted, resumed after a restart, applied once."""

from __future__ import annotations

import asyncio
import io
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete

from patron.domain.clock import utcnow
from patron.domain.customers import rows as customer_rows
from patron.domain.customers.rows import BULK_UPDATE, CSV_IMPORT, apply_customer_rows
from patron.domain.errors import Invalid
from patron.domain.jobs.model import OperationStatus, RowOutcome, RowStatus, Status
from patron.domain.jobs.runner import AsyncActionService
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services, open_services
from patron.settings import Settings
from patron.store.schema import async_action_input_chunks
from patron.surfaces.voucherify.customer_rows import (
    csv_rows,
    rows_from_bulk_update,
    rows_from_metadata_update,
)
from tests.conftest import make_workspace
from tests.patron_logs import patron_records, said

pytestmark = pytest.mark.anyio

CSV = (
    "Source_id,Name,Email,Birthdate,Address_City,Address_Line_1,plan,Empty\n"
    "u1,Ada,ada@example.com,1815-12-10,London,12 St James's Sq,pro,\n"
    "\n"
    "u2,Grace,grace@example.com,1906-13-09,,,free,\n"
    ",Nobody,,,,,trial,\n"
)


async def profile(services: Services, workspace_id: str, ref: str) -> Any:
    return (await services.customers.get(workspace_id=workspace_id, ref=ref)).profile


async def identify(services: Services, workspace_id: str, user_id: str, **traits: Any) -> None:
    document = {"type": "identify", "userId": user_id, "traits": traits}
    message, problems = build_message(MessageType.IDENTIFY, document, received_at=utcnow())
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=workspace_id, messages=[message])


async def test_a_csv_import_creates_updates_and_reports_each_row(services: Services) -> None:
    workspace = await make_workspace(services)
    await identify(services, workspace.id, "u1", plan="basic", seen=True)
    action = await services.async_actions.submit(
        workspace_id=workspace.id, type_=CSV_IMPORT, rows=csv_rows(io.BytesIO(CSV.encode()))
    )
    assert action.status is Status.ENQUEUED
    assert action.total == 3  # the blank line is no row

    assert await services.async_actions.run_pending() == 1
    done = await services.async_actions.get(workspace_id=workspace.id, action_id=action.id)
    assert (done.status, done.operation_status) == (Status.DONE, OperationStatus.SUCCESS)
    assert (done.processed, done.failed, done.progress) == (3, 1, 100)
    assert done.processing_time_ms is not None

    results = await services.async_actions.results(workspace_id=workspace.id, action_id=action.id)
    assert [(r.row, r.outcome.status, r.outcome.record_key) for r in results] == [
        (0, RowStatus.UPDATED, "u1"),
        (1, RowStatus.FAILED, "u2"),
        (2, RowStatus.CREATED, None),
    ]
    assert results[1].outcome.error == {
        "code": "invalid_row",
        "message": "birthdate must be a date, YYYY-MM-DD",
    }
    ada = await profile(services, workspace.id, "u1")  # the tracking API's customer, updated
    assert (ada.name, ada.email, ada.birthdate) == ("Ada", "ada@example.com", "1815-12-10")
    assert ada.address == {"city": "London", "line_1": "12 St James's Sq"}
    assert ada.attributes == {"plan": "pro", "seen": True}  # metadata merged, empty cells skipped
    nobody = await profile(services, workspace.id, results[2].outcome.record_id or "")
    assert (nobody.name, nobody.external_id, nobody.attributes) == (
        "Nobody",
        None,
        {"plan": "trial"},
    )
    with pytest.raises(Exception, match="no customer"):
        await profile(services, workspace.id, "u2")  # the failed row changed nothing


async def test_bulk_and_metadata_updates(services: Services) -> None:
    workspace = await make_workspace(services)
    rows = rows_from_bulk_update(
        [
            {"source_id": "a", "name": "A", "address": {"city": "Oslo"}, "metadata": {"x": 1}},
            {"source_id": "b", "birthdate": "2000-01-02", "email": "b@example.com"},
        ]
    )
    await services.async_actions.submit(workspace_id=workspace.id, type_=BULK_UPDATE, rows=rows)
    meta = rows_from_metadata_update({"source_ids": ["a", "b"], "metadata": {"vip": True}})
    await services.async_actions.submit(
        workspace_id=workspace.id, type_=customer_rows.METADATA_UPDATE, rows=meta
    )
    assert await services.async_actions.run_pending() == 2
    a, b = await profile(services, workspace.id, "a"), await profile(services, workspace.id, "b")
    assert (a.name, a.address, a.attributes) == ("A", {"city": "Oslo"}, {"x": 1, "vip": True})
    assert (b.birthdate, b.email, b.attributes) == ("2000-01-02", "b@example.com", {"vip": True})
    listed = await services.async_actions.list(workspace_id=workspace.id)
    assert [x.type for x in listed] == [customer_rows.METADATA_UPDATE, BULK_UPDATE]


def test_bad_bulk_requests_are_refused_whole() -> None:
    with pytest.raises(Invalid) as refused:
        rows_from_bulk_update(
            [{"source_id": "a"}, {"name": "no id"}, {"source_id": "c", "birthdate": "x"}, 3]
        )
    assert {p.field for p in refused.value.problems} == {"[1].source_id", "[2].birthdate", "[3]"}
    with pytest.raises(Invalid):
        rows_from_bulk_update({"source_id": "a"})
    with pytest.raises(Invalid):
        rows_from_metadata_update({"source_ids": [], "metadata": {"a": 1}})
    for bad_file in (b"", b"\xff\xfe\x00", b"a,A\n1,2\n"):
        with pytest.raises(Invalid):
            csv_rows(io.BytesIO(bad_file))  # refused at its header, before any row
    assert list(csv_rows(io.BytesIO(b"Source_id\nx,y\n"))) == [
        {"error": "has 2 cells but the header names 1 columns"}
    ]
    good = b"Source_id\n" + b"".join(b"s%d\n" % n for n in range(20_000))  # past one read
    for bad_end, why in ((b"\xff\n", "UTF-8"), (b"x\x00\n", "NUL")):
        rows = csv_rows(io.BytesIO(good + bad_end))  # the header is fine
        with pytest.raises(Invalid, match=why):
            list(rows)


async def test_a_job_survives_a_restart_and_resumes_where_it_stopped(settings: Settings) -> None:
    first = await open_services(settings)
    workspace = await make_workspace(first)
    applied: list[str] = []

    def recording(unit: Any, workspace_id: str, rows: Any, now: Any) -> list[RowOutcome]:
        applied.extend(row["source_id"] for row in rows)
        return apply_customer_rows(unit, workspace_id, rows, now)

    rows = rows_from_bulk_update([{"source_id": f"s{i}", "name": f"N{i}"} for i in range(5)])
    jobs = AsyncActionService(first.store, {BULK_UPDATE: recording}, chunk_size=2)
    action = await jobs.submit(workspace_id=workspace.id, type_=BULK_UPDATE, rows=rows)
    # The first chunk commits, then the process dies before the next one.
    await first.store.write(
        partial(jobs._apply_chunk, action=action, handler=recording, start=0, chunk=rows[:2])
    )
    await first.close()

    second = await open_services(settings)
    try:
        resumed = AsyncActionService(second.store, {BULK_UPDATE: recording}, chunk_size=2)
        resumed.start()  # as the app's lifespan does
        for _ in range(200):
            found = await resumed.get(workspace_id=workspace.id, action_id=action.id)
            if found.finished:
                break
            await asyncio.sleep(0.02)
        await resumed.stop()
        assert found.status is Status.DONE
        assert applied == ["s0", "s1", "s2", "s3", "s4"]  # each row applied once
        results = await resumed.results(workspace_id=workspace.id, action_id=action.id)
        assert [r.row for r in results] == [0, 1, 2, 3, 4]
    finally:
        await second.close()


async def test_two_runners_on_one_job_apply_each_chunk_once(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = await make_workspace(services)
    rows = rows_from_bulk_update([{"source_id": f"r{i}", "metadata": {"i": i}} for i in range(40)])
    handlers = {BULK_UPDATE: apply_customer_rows}
    one = AsyncActionService(services.store, handlers, chunk_size=3)
    two = AsyncActionService(services.store, handlers, chunk_size=3)
    action = await one.submit(workspace_id=workspace.id, type_=BULK_UPDATE, rows=rows)
    with patron_records(caplog):
        await asyncio.gather(one.run_pending(), two.run_pending())
    # The loser of each race is expected: nothing for an operator to act on.
    assert said(caplog) == []
    assert any("another process took the chunk" in r.getMessage() for r in caplog.records)
    done = await one.get(workspace_id=workspace.id, action_id=action.id)
    assert (done.status, done.processed, done.failed) == (Status.DONE, 40, 0)
    results = await one.results(workspace_id=workspace.id, action_id=action.id)
    assert [r.row for r in results] == list(range(40))
    assert {r.outcome.status for r in results} == {RowStatus.CREATED}
    customers = {r.outcome.record_id for r in results}
    assert len(customers) == 40  # one customer per source_id, none made twice


async def test_a_chunk_that_keeps_failing_fails_its_job(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = await make_workspace(services)

    def broken(unit: Any, workspace_id: str, rows: Any, now: Any) -> list[RowOutcome]:
        raise RuntimeError("a bug")

    jobs = AsyncActionService(services.store, {BULK_UPDATE: broken})
    action = await jobs.submit(workspace_id=workspace.id, type_=BULK_UPDATE, rows=[{}])
    with patron_records(caplog):
        await jobs.run_pending()
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert len(tracebacks) == 1, said(caplog)  # the bug, once, when it fails the job
    assert tracebacks[0].levelname == "ERROR"
    assert "the job has failed" in tracebacks[0].getMessage()
    failed = await jobs.get(workspace_id=workspace.id, action_id=action.id)
    assert (failed.status, failed.operation_status) == (Status.FAILED, OperationStatus.FAILED)
    other = await make_workspace(services)
    with pytest.raises(Exception, match="no async action"):
        await jobs.get(workspace_id=other.id, action_id=action.id)  # another workspace's


async def test_a_job_whose_input_fails_midway_stores_nothing(services: Services) -> None:
    workspace = await make_workspace(services)

    def rows() -> Any:
        for n in range(1_200):  # past two chunks
            yield {"source_id": f"s{n}", "fields": {}, "metadata": {}}
        raise Invalid("the file turned out to be unusable")

    with pytest.raises(Invalid, match="unusable"):
        await services.async_actions.submit(
            workspace_id=workspace.id, type_=BULK_UPDATE, rows=rows()
        )
    assert await services.async_actions.list(workspace_id=workspace.id) == []
    assert await services.async_actions.run_pending() == 0


async def test_a_job_is_read_back_whatever_its_input_was_chunked_by(services: Services) -> None:
    """Stored by one chunk size, run by another (a later version, a migrated job)."""
    workspace = await make_workspace(services)
    applied: list[list[str]] = []

    def recording(unit: Any, workspace_id: str, rows: Any, now: Any) -> list[RowOutcome]:
        applied.append([row["source_id"] for row in rows])
        return [RowOutcome(RowStatus.CREATED, None, row["source_id"]) for row in rows]

    rows = [{"source_id": f"s{n}", "fields": {}, "metadata": {}} for n in range(11)]
    storing = AsyncActionService(services.store, {BULK_UPDATE: recording}, chunk_size=4)
    action = await storing.submit(workspace_id=workspace.id, type_=BULK_UPDATE, rows=iter(rows))
    running = AsyncActionService(services.store, {BULK_UPDATE: recording}, chunk_size=3)
    assert await running.run_pending() == 1
    # A chunk never spans two stored chunks (0-3, 4-7, 8-10), and never exceeds 3 rows.
    assert [len(chunk) for chunk in applied] == [3, 1, 3, 1, 3]
    assert [source for chunk in applied for source in chunk] == [f"s{n}" for n in range(11)]
    results = await running.results(workspace_id=workspace.id, action_id=action.id)
    assert [r.row for r in results] == list(range(11))
    failed = await running.results(
        workspace_id=workspace.id, action_id=action.id, status=RowStatus.FAILED
    )
    page = await running.results(
        workspace_id=workspace.id, action_id=action.id, after_row=4, limit=3
    )
    assert (failed, [r.row for r in page]) == ([], [5, 6, 7])
    counts = await running.result_counts(workspace_id=workspace.id, action_id=action.id)
    assert counts == {RowStatus.CREATED: 11}


async def test_a_job_whose_stored_input_is_missing_fails(services: Services) -> None:
    workspace = await make_workspace(services)
    rows = rows_from_bulk_update([{"source_id": f"s{n}"} for n in range(3)])
    action = await services.async_actions.submit(
        workspace_id=workspace.id, type_=BULK_UPDATE, rows=rows
    )
    await services.store.write(
        lambda unit: unit.connection.execute(delete(async_action_input_chunks))
    )
    await services.async_actions.run_pending()
    failed = await services.async_actions.get(workspace_id=workspace.id, action_id=action.id)
    assert (failed.status, failed.operation_status, failed.processed) == (
        Status.FAILED,
        OperationStatus.FAILED,
        0,
    )
