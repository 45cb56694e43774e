"""The background loop: runs at once, again when woken, survives a failing step, stops."""

from __future__ import annotations

import asyncio

import pytest

from patron.domain.background import BackgroundLoop

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
