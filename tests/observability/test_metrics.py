"""``GET /metrics``: what an operator reads after tracked calls, refusals, bulk jobs and sweeps.

The metrics are the process's (prometheus-client keeps one registry), so each
test compares the figures after its calls with those before them.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.parser import text_string_to_metric_families

from patron.domain.customers.rows import CSV_IMPORT
from patron.domain.jobs.model import Status
from patron.observability.metrics import Metrics, metrics
from patron.services import Services
from patron.surfaces.voucherify.customer_rows import csv_rows
from tests.conftest import WorkspaceKeys, make_workspace

pytestmark = pytest.mark.anyio

Sample = tuple[str, frozenset[tuple[str, str]]]


async def scrape(api: httpx.AsyncClient) -> dict[Sample, float]:
    """Every sample ``/metrics`` shows, by name and labels."""
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def grew(
    before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str
) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


async def test_tracked_calls_show_by_surface_route_and_status(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    before = await scrape(api)
    auth = basic(workspace.write_key)
    for n in range(3):
        ok = await api.post("/v1/track", json={"userId": f"u{n}", "event": "e"}, headers=auth)
        assert ok.status_code == 200, ok.text
    batch = {"batch": [{"type": "track", "userId": "u0", "event": "e", "messageId": "m1"}] * 2}
    assert (await api.post("/any/prefix/v1/batch", json=batch, headers=auth)).status_code == 200
    assert (
        await api.post("/v1/t", json={"userId": "u"}, headers=basic("wrong"))
    ).status_code == 401
    assert (await api.post("/v1/track", json={"userId": 5}, headers=auth)).status_code == 400
    after = await scrape(api)

    def requests(route: str, status: str) -> float:
        return grew(
            before,
            after,
            "patron_http_requests_total",
            surface="segment",
            route=route,
            status=status,
        )

    assert requests("/v1/track", "200") == 3
    assert requests("/v1/batch", "200") == 1  # the path's prefix is not part of the route
    assert requests("/v1/t", "401") == 1
    assert requests("/v1/track", "400") == 1
    latency = grew(
        before,
        after,
        "patron_http_request_duration_seconds_count",
        surface="segment",
        route="/v1/track",
    )
    assert latency == 4
    refused = "patron_http_refused_total"
    assert grew(before, after, refused, surface="segment", reason="unauthorized") == 1
    assert grew(before, after, refused, surface="segment", reason="invalid") == 1
    # 3 single events and a batch of one message sent twice: 4 stored, 1 duplicate.
    assert grew(before, after, "patron_events_stored_total") == 4
    assert grew(before, after, "patron_events_duplicate_total") == 1
    batched = grew(before, after, "patron_commit_batch_messages_sum")
    assert batched == 5  # every message the tracking calls carried went through a group commit
    assert grew(before, after, "patron_commit_batch_seconds_count") >= 1
    assert after[("patron_ingest_queue_messages", frozenset())] == 0  # all committed


async def test_routes_are_templates_and_unknown_paths_share_one_label(
    api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    before = await scrape(api)
    headers = workspace.app_headers
    for ref in ("c1", "c2", "c3"):
        assert (await api.get(f"/v1/customers/{ref}", headers=headers)).status_code == 404
    for n in range(5):
        assert (await api.get(f"/scan/{n}/admin.php")).status_code == 404
    assert (await api.get("/health")).status_code == 200
    after = await scrape(api)

    labels = {labels for name, labels in after if name == "patron_http_requests_total"}
    assert not any("c1" in value or "scan" in value for label in labels for _, value in label)
    customer = {"surface": "voucherify", "route": "/v1/customers/{customer_id}"}
    assert grew(before, after, "patron_http_requests_total", **customer, status="404") == 3
    unmatched = {"surface": "patron", "route": "unmatched", "status": "404"}
    assert grew(before, after, "patron_http_requests_total", **unmatched) == 5
    health = {"surface": "patron", "route": "/health", "status": "200"}
    assert grew(before, after, "patron_http_requests_total", **health) == 1
    refused = "patron_http_refused_total"
    assert grew(before, after, refused, surface="voucherify", reason="not_found") == 3
    assert grew(before, after, refused, surface="patron", reason="no_route") == 5


def value(name: str, **labels: str) -> float:
    found = metrics().registry.get_sample_value(name, labels)
    return found or 0.0


CSV = "Source_id,Name,Birthdate\nu1,Ada,1815-12-10\nu2,Grace,1906-13-09\nu3,Joan,\n"


async def test_bulk_job_progress(services: Services) -> None:
    workspace = await make_workspace(services)

    def figures() -> list[float]:
        rows = "patron_bulk_job_rows_total"
        jobs = "patron_bulk_jobs_total"
        return [
            value(jobs, type=CSV_IMPORT, status="accepted"),
            value(rows, type=CSV_IMPORT, outcome="accepted"),
            value(rows, type=CSV_IMPORT, outcome="succeeded"),
            value(rows, type=CSV_IMPORT, outcome="failed"),
            value(jobs, type=CSV_IMPORT, status="done"),
        ]

    before = figures()
    action = await services.async_actions.submit(
        workspace_id=workspace.id, type_=CSV_IMPORT, rows=csv_rows(io.BytesIO(CSV.encode()))
    )
    accepted = figures()
    assert [a - b for a, b in zip(accepted, before, strict=True)] == [1, 3, 0, 0, 0]
    await services.async_actions.run_pending()
    done = await services.async_actions.get(workspace_id=workspace.id, action_id=action.id)
    assert done.status is Status.DONE
    after = figures()
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 3, 2, 1, 1]


async def test_segment_sweeps_are_counted_with_their_outcome(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok_before, failed_before = (
        value("patron_segment_sweeps_total", outcome="ok"),
        value("patron_segment_sweeps_total", outcome="failed"),
    )
    seconds_before = value("patron_segment_sweep_seconds_count")
    await services.segment_sweeper.sweep()

    async def unreachable(work: Any) -> Any:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(services.segment_sweeper.store, "read", unreachable)
    with pytest.raises(ConnectionError):
        await services.segment_sweeper.sweep()
    assert value("patron_segment_sweeps_total", outcome="ok") - ok_before == 1
    assert value("patron_segment_sweeps_total", outcome="failed") - failed_before == 1
    assert value("patron_segment_sweep_seconds_count") - seconds_before == 2


def test_group_commits_report_their_size_duration_and_the_queue() -> None:
    """The committer's observer in isolation, on a registry of its own."""
    registry = CollectorRegistry()
    own = Metrics(registry)
    own.batch_committed(messages=40, seconds=0.004, waiting=7)
    own.batch_committed(messages=1, seconds=0.001, waiting=0)
    sample = registry.get_sample_value
    assert sample("patron_commit_batch_messages_count") == 2
    assert sample("patron_commit_batch_messages_sum") == 41
    assert sample("patron_commit_batch_messages_bucket", {"le": "50.0"}) == 2
    assert sample("patron_commit_batch_messages_bucket", {"le": "20.0"}) == 1
    assert sample("patron_commit_batch_seconds_sum") == pytest.approx(0.005)
    assert sample("patron_ingest_queue_messages") == 0  # the last commit's figure


def test_workers_sum_into_one_queue_and_a_dead_ones_is_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --workers N, /metrics reads every worker's file; a killed worker's gauge goes."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead, alive = int(finished.stdout), os.getpid()
    name = "patron_ingest_queue_messages"
    for pid, waiting in ((dead, 500), (alive, 7)):
        values = MmapedDict(str(tmp_path / f"gauge_livesum_{pid}.db"))
        values.write_value(mmap_key(name, name, (), (), "help"), waiting, 0)
        values.close()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = Metrics(CollectorRegistry()).exposition().decode()
    assert f"{name} 7.0" in text.splitlines()
    assert not (tmp_path / f"gauge_livesum_{dead}.db").exists()
