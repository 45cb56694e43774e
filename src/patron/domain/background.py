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

from patron.domain.errors import RetryLater

log = logging.getLogger(__name__)


class BackgroundLoop:
    """Runs ``step`` at once, then ``interval`` seconds after each run, or sooner when woken.

    A step that fails (the database went away, say) is tried again at the next
    turn; it never ends the loop. A failure is logged when it starts — at
    WARNING when the database is out of reach (the store has said so already),
    at ERROR with its traceback otherwise — and the same failure again at DEBUG
    only, until a step succeeds.
    """

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval: float) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failure: str | None = None  # the last step's failure, while steps fail

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
            except Exception as error:
                self._failed(error)
            else:
                if self._failure is not None:
                    log.info("%s: the step succeeds again", self.name)
                    self._failure = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    def _failed(self, error: Exception) -> None:
        failure = f"{type(error).__name__}: {error}"
        repeated, self._failure = failure == self._failure, failure
        if repeated:
            log.debug("%s: the step failed again (%s)", self.name, failure)
        elif isinstance(error, RetryLater):
            log.warning("%s: the step failed (%s); trying again later", self.name, failure)
        else:
            log.error("%s: the step failed; trying again later", self.name, exc_info=error)
