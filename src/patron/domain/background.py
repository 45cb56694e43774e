"""A background loop: one asyncio task running a step again and again.

Used by the services that work without a request: bulk jobs and the
customer-segment time sweep. Every Patron process runs its own; what they
do is safe to do from many processes at once (see each service).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs ``step`` at once, then ``interval`` seconds after each run, or sooner when woken.

    A step that fails (the database went away, say) is logged and tried again
    at the next turn; it never ends the loop.
    """

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"patron-{self.name}")

    async def stop(self) -> None:
        """Cancel the loop (between or inside a step: steps commit or roll back whole)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Run the next step now rather than after the interval."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: the step failed; trying again at the next turn", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
