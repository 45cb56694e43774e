"""``patron serve`` itself: uvicorn's lines in Patron's format, one /metrics over N workers."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.test_logs import TIMESTAMP
from tests.patron_server import PATRON, Server, free_port, patron_env

pytestmark = pytest.mark.server


@contextmanager
def serving(database_url: str, logs: Path, *args: str, **env: str) -> Iterator[Server]:
    """``patron serve`` with its standard output and error in ``logs``/out and /err."""
    port = free_port()
    with (logs / "out").open("wb") as out, (logs / "err").open("wb") as err:
        process = subprocess.Popen(
            [str(PATRON), "serve", "--port", str(port), *args],
            env={**patron_env(database_url), "PATRON_LOG_LEVEL": "info", **env},
            stdout=out,
            stderr=err,
        )
        server = Server(process, f"http://127.0.0.1:{port}")
        try:
            wait_until_ready(server)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=60)


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.process.poll() is None, "patron serve exited"
        try:
            if httpx.get(f"{server.url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("patron serve was not ready within 60 s")


def wait_for_line(log: Path, text: str, *, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.read_text().count(text) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} was not logged {count} times within 60 s")


def test_every_line_is_json_and_access_lines_carry_request_ids(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'patron.db'}"
    json_logs = {"PATRON_LOG_FORMAT": "json", "PATRON_ACCESS_LOG": "true"}
    with serving(database_url, tmp_path, **json_logs) as server:
        refused = httpx.post(f"{server.url}/v1/track", json={"userId": "a"}, auth=("nokey", ""))
        assert refused.status_code == 401
    lines = [
        orjson.loads(line)
        for name in ("out", "err")
        for line in (tmp_path / name).read_text().splitlines()
    ]
    assert {line["logger"] for line in lines} >= {"uvicorn.error", "uvicorn.access", "patron"}
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
    track = [line for line in lines if line.get("path") == "/v1/track"]
    assert len(track) == 1
    assert (track[0]["method"], track[0]["status"]) == ("POST", 401)
    assert len(track[0]["request_id"]) == 24


@pytest.mark.postgres
def test_two_workers_answer_one_set_of_metrics(tmp_path: Path, postgres_database: str) -> None:
    calls = 24
    with serving(postgres_database, tmp_path, "--workers", "2") as server:
        wait_for_line(tmp_path / "err", "Application startup complete", count=2)
        with httpx.Client(
            base_url=server.url
        ) as client:  # a connection each: any worker may answer
            for n in range(calls):
                headers = {"Connection": "close"}
                client.get(f"/scan/{n}", headers=headers)
            scrapes = [client.get("/metrics", headers={"Connection": "close"}) for _ in range(6)]
        started = [
            line for line in (tmp_path / "err").read_text().splitlines() if "Started server" in line
        ]
    assert len(started) == 2, started  # two processes, and their lines are Patron's text lines
    assert all(re.match(TIMESTAMP + r" INFO +uvicorn\.error: ", line) for line in started)
    for scrape in scrapes:
        assert scrape.status_code == 200
        families = text_string_to_metric_families(scrape.text)
        unmatched = [
            sample.value
            for family in families
            for sample in family.samples
            if sample.name == "patron_http_requests_total"
            and sample.labels == {"surface": "patron", "route": "unmatched", "status": "404"}
        ]
        assert unmatched == [calls]  # whichever worker answered the scrape
