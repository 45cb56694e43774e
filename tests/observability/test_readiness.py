"""``GET /ready`` asks the database; ``GET /health`` does not."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import create_engine

from patron.observability.readiness import Readiness
from patron.services import Services
from patron.store.database import Database
from tests.patron_server import free_port

pytestmark = pytest.mark.anyio


@contextmanager
def unreachable(database: Database) -> Iterator[None]:
    """Point the store's readers at a database that is not there (no server, no file)."""
    real = database.reader
    if database.is_sqlite:
        dead = create_engine("sqlite:////no/such/folder/patron.db")
    else:
        dead = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/patron")
    database.reader = dead
    try:
        yield
    finally:
        database.reader = real
        dead.dispose()


async def test_ready_answers_whether_the_database_does(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    database = app_services[1].store.database
    ready = await api.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})

    with unreachable(database):
        down = await api.get("/ready")
        health = await api.get("/health")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert "not reachable" in down.json()["problem"]
    assert down.headers["retry-after"] == "1"
    assert health.status_code == 200  # liveness: the process serves, whatever the database does

    assert (await api.get("/ready")).status_code == 200  # and back once it answers again


async def test_a_database_that_hangs_fails_the_probe_in_time_without_piling_up_threads() -> None:
    release = threading.Event()
    calls = 0

    def hanging() -> None:
        nonlocal calls
        calls += 1
        release.wait(timeout=10)

    readiness = Readiness(hanging, timeout=0.05)
    first = await readiness.problem()
    second = await readiness.problem()  # the first query still hangs: no second one
    assert first == second == "the database did not answer within 0.05 s"
    assert calls == 1
    release.set()
    for _ in range(100):  # the hanging query returns; a probe after it sees the database
        if await readiness.problem() is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the probe did not recover")


async def test_a_failure_is_logged_once_until_the_database_answers_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = True

    def check() -> None:
        if failing:
            raise ConnectionRefusedError("refused")

    readiness = Readiness(check, timeout=1)
    logger = "patron.observability.readiness"
    for _ in range(3):
        assert await readiness.problem() == "the database is not reachable (ConnectionRefusedError)"
    failing = False
    assert await readiness.problem() is None
    lines = [r.getMessage() for r in caplog.records if r.name == logger]
    assert lines == [
        "not ready: the database is not reachable (ConnectionRefusedError)",
        "ready again: the database answers",
    ]
