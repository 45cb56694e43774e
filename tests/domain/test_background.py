"""The background loop: runs at once, again when woken, survives a failing step, stops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from patron.domain.background import BackgroundLoop
from patron.domain.errors import Unavailable
from tests.patron_logs import patron_records, said

pytestmark = pytest.mark.anyio


async def test_a_loop_runs_again_when_woken_and_outlives_a_failing_step() -> None:
    runs: list[int] = []
    ran = asyncio.Event()

    async def step() -> None:
        runs.append(len(runs))
        ran.set()
        if len(runs) == 1:
            raise RuntimeError("the database went away")

    loop = BackgroundLoop("test", step, interval=3600)
    loop.start()
    await asyncio.wait_for(ran.wait(), 5)  # at once, not after the interval
    for expected in (2, 3):
        ran.clear()
        loop.wake()
        await asyncio.wait_for(ran.wait(), 5)
        assert len(runs) == expected
    await loop.stop()
    loop.wake()
    await asyncio.sleep(0.05)
    assert len(runs) == 3  # stopped: waking does nothing


async def test_a_failing_step_is_logged_when_it_starts_failing_and_when_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[Exception] = [
        RuntimeError("a bug"),
        RuntimeError("a bug"),
        RuntimeError("a bug"),
        Unavailable("the database is not available; retry later"),
        Unavailable("the database is not available; retry later"),
    ]
    ran = asyncio.Event()

    async def step() -> None:
        ran.set()
        if failures:
            raise failures.pop(0)

    loop = BackgroundLoop("test", step, interval=3600)
    with patron_records(caplog):
        loop.start()
        for _ in range(6):
            await asyncio.wait_for(ran.wait(), 5)
            ran.clear()
            loop.wake()
        await asyncio.wait_for(ran.wait(), 5)
        await loop.stop()
    assert said(caplog, logging.INFO) == [
        "ERROR: test: the step failed; trying again later",  # once, with its traceback
        "WARNING: test: the step failed (Unavailable: the database is not available; retry "
        "later); trying again later",  # the store has reported the outage itself
        "INFO: test: the step succeeds again",
    ]
    assert [r.exc_info is not None for r in caplog.records if r.levelno >= logging.INFO] == [
        True,
        False,
        False,
    ]
