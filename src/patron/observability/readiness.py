"""Readiness: does this process reach its database right now? (``GET /ready``)

``/health`` answers as long as the process serves HTTP (liveness: restart it
if not); ``/ready`` also runs one trivial query (take it out of the load
balancer while it fails). The query runs in a thread of its own, bounded by
a timeout: a database that does not answer makes the probe fail in time,
and while that query still hangs, later probes wait on it rather than start
another — threads never pile up behind a dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Readiness:
    """Probes the database with ``check`` (raises if it does not answer)."""

    def __init__(self, check: Callable[[], None], *, timeout: float) -> None:
        self.check = check
        self.timeout = timeout
        self._running: asyncio.Future[None] | None = None
        self._problem: str | None = None  # the last probe's, to log changes only

    async def problem(self) -> str | None:
        """None when the database answered within the timeout; else what is wrong."""
        if self._running is None or self._running.done():
            self._running = self._start()
        problem: str | None
        try:
            await asyncio.wait_for(asyncio.shield(self._running), self.timeout)
        except TimeoutError:
            problem = f"the database did not answer within {self.timeout:g} s"
        except Exception as error:
            problem = f"the database is not reachable ({type(error).__name__})"
        else:
            problem = None
        self._log_change(problem)
        return problem

    def _start(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if future.done():
                return
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        def run() -> None:
            error: BaseException | None = None
            try:
                self.check()
            except Exception as caught:
                error = caught
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(settle, error)

        # A daemon thread: one stuck on a dead connection must not hold up the exit.
        threading.Thread(target=run, name="patron-ready", daemon=True).start()
        future.add_done_callback(_retrieve)
        return future

    def _log_change(self, problem: str | None) -> None:
        if problem is not None and problem != self._problem:
            log.warning("not ready: %s", problem)
        elif problem is None and self._problem is not None:
            log.warning("ready again: the database answers")
        self._problem = problem


def _retrieve(future: asyncio.Future[None]) -> None:
    # A failure that arrives after the timeout has no one awaiting it: mark it seen.
    if not future.cancelled():
        future.exception()
