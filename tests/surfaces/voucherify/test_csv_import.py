"""CSV imports over HTTP: streamed, refused whole when unusable, within the configured
size; and their reports, sent a page at a time when long.

This module's app takes CSV files of at most 1 MB (``PATRON_CSV_IMPORT_MAX_MB=1``).
"""

from __future__ import annotations

import gzip

import httpx
import pytest

from patron.services import Services
from patron.settings import Settings
from patron.surfaces.voucherify import wire
from patron.surfaces.voucherify.app import REPORT_PAGE
from tests.conftest import WorkspaceKeys
from tests.surfaces.voucherify.test_errors import assert_error

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
HEADER = b"Source_id,Name,Description\n"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, key_cache_seconds=0, csv_import_max_mb=1)


def csv_of(size: int) -> bytes:
    """A CSV file of exactly ``size`` bytes: rows of about 1 KB."""
    lines, total, n = [HEADER], len(HEADER), 0
    while total < size:
        line = b"s%d,Name %d,%s\n" % (n, n, b"x" * 1000)
        if total + len(line) > size:
            start = b"s%d,Name %d," % (n, n)
            line = start + b"x" * (size - total - len(start) - 1) + b"\n"
        lines.append(line)
        total += len(line)
        n += 1
    return b"".join(lines)


async def upload(api: httpx.AsyncClient, workspace: WorkspaceKeys, data: bytes) -> httpx.Response:
    files = {"file": ("customers.csv", data, "text/csv")}
    return await api.post("/v1/customers/importCSV", files=files, headers=workspace.app_headers)


async def assert_no_job_and_no_customer(
    api: httpx.AsyncClient, services: Services, workspace: WorkspaceKeys
) -> None:
    await services.async_actions.run_pending()
    listed = await api.get("/v1/async-actions", headers=workspace.app_headers)
    assert listed.json()["async_actions"] == []
    customers = await api.get("/v1/customers", headers=workspace.app_headers)
    assert customers.json()["total"] == 0


async def test_the_size_limit_is_the_setting(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    response = await upload(api, workspace, csv_of(MB + 1))
    body = assert_error(response, 413, "request_too_large")
    assert "1 MB" in body["details"]
    await assert_no_job_and_no_customer(api, app_services[1], workspace)
    accepted = await upload(api, workspace, csv_of(MB))
    assert accepted.status_code == 202, accepted.text
    action = await app_services[1].async_actions.get(
        workspace_id=workspace.id, action_id=accepted.json()["async_action_id"]
    )
    assert action.total == len(csv_of(MB).splitlines()) - 1


@pytest.mark.parametrize("bad_end", [b"\xff\n", b"x\x00\n"], ids=["not-utf-8", "nul"])
async def test_a_file_unusable_at_its_end_is_refused_whole(
    api: httpx.AsyncClient,
    app_services: tuple[object, Services],
    workspace: WorkspaceKeys,
    bad_end: bytes,
) -> None:
    rows = b"".join(b"s%d,Name %d,\n" % (n, n) for n in range(3_000))  # six chunks, then
    response = await upload(api, workspace, HEADER + rows + bad_end)
    assert_error(response, 400, "invalid_payload")
    await assert_no_job_and_no_customer(api, app_services[1], workspace)


async def test_a_gzipped_upload_is_inflated_as_it_arrives(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    files = {"file": ("customers.csv", HEADER + b"zipped-1,Zipped,\n", "text/csv")}
    form = httpx.Request("POST", "http://patron/", files=files)
    headers = {
        **workspace.app_headers,
        "Content-Type": form.headers["content-type"],
        "Content-Encoding": "gzip",
    }
    response = await api.post(
        "/v1/customers/importCSV", content=gzip.compress(form.read()), headers=headers
    )
    assert response.status_code == 202, response.text
    await app_services[1].async_actions.run_pending()
    found = await api.get("/v1/customers/zipped-1", headers=workspace.app_headers)
    assert found.json()["name"] == "Zipped"


async def test_a_long_report_is_the_same_document_sent_a_page_at_a_time(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    rows = [
        b"r%d,Name %d,%s\n" % (n, n, b"" if n % 7 else b"1999-99-99")  # some rows fail
        for n in range(2 * REPORT_PAGE + 345)
    ]
    data = b"Source_id,Name,Birthdate\n" + b"".join(rows)
    accepted = await upload(api, workspace, data)
    assert accepted.status_code == 202, accepted.text
    jobs = app_services[1].async_actions
    await jobs.run_pending()
    action_id = accepted.json()["async_action_id"]
    response = await api.get(f"/v1/async-actions/{action_id}", headers=workspace.app_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    action = await jobs.get(workspace_id=workspace.id, action_id=action_id)
    results = await jobs.results(workspace_id=workspace.id, action_id=action_id)
    expected = {
        **wire.async_action_json(action),
        "result": wire.async_action_result(action, results),
    }
    assert response.json() == expected
    report = expected["result"]
    assert (report["count"], report["failed_count"]) == (len(rows), len(range(0, len(rows), 7)))
    assert [row["row"] for row in report["results"]] == list(range(len(rows)))
