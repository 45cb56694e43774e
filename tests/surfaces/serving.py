"""An unexpected error over a real connection: a 500 in the surface's format, logged
once with its request id, and the keep-alive connection still usable after it.

The app is served by uvicorn in the test's own event loop (so a test can make
one of its services fail); its lifespan is the ``app_services`` fixture's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from tests.patron_server import free_port

SECRET = "secret detail of the failure"


def fail(*_args: Any, **_kwargs: Any) -> Any:
    """A service method that breaks: monkeypatch it over a real one."""
    raise RuntimeError(SECRET)


def fail_once(real: Callable[..., Any]) -> Callable[..., Any]:
    """``real``, but the first call breaks."""
    calls = 0

    def once(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return fail() if calls == 1 else real(*args, **kwargs)

    return once


@asynccontextmanager
async def serving(app: object) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # its failure to start, raised
                raise AssertionError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def serving_in_thread(app: object) -> Iterator[str]:
    """Serve ``app`` (its lifespan too) from a thread of its own; yield its base URL.

    For tests that call it from synchronous code, as hypothesis tests do.
    """
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            thread.join(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


@dataclass(frozen=True)
class Crash:
    failed: httpx.Response  # the answer to the request that met the failure
    after: httpx.Response  # the next request's, on the same connection
    request_id: str


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def crash_then_continue(
    app: object, caplog: pytest.LogCaptureFixture, failing: Call, after: Call
) -> Crash:
    """Make the ``failing`` call (it meets a failing service), then ``after``, on one connection.

    Checks what every surface must do: a 500 with a request id, no exception
    text for the client, one ERROR record on the ``patron`` logger naming the
    request id, and the same connection answering the next request.
    """
    logger = logging.getLogger("patron")  # it does not propagate to caplog's root handler
    logger.addHandler(caplog.handler)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    try:
        async with (
            serving(app) as url,
            httpx.AsyncClient(base_url=url, limits=limits) as client,
        ):
            caplog.clear()
            failed = await failing(client)
            records = [r for r in caplog.records if r.name == "patron"]
            first_connection = _local_address(failed)
            assert first_connection is not None, "the server closed the connection"
            answered = await after(client)
            assert _local_address(answered) == first_connection, "the server closed the connection"
    finally:
        logger.removeHandler(caplog.handler)
    assert failed.status_code == 500, failed.text
    assert failed.headers["content-type"] == "application/json"
    assert SECRET not in failed.text
    assert "Traceback" not in failed.text
    assert "RuntimeError" not in failed.text
    request_id = failed.headers["x-request-id"]
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.ERROR
    assert request_id in records[0].getMessage()
    assert records[0].exc_info is not None  # the traceback is in the log, for the operator
    assert answered.status_code < 500, answered.text
    return Crash(failed, answered, request_id)


def _local_address(response: httpx.Response) -> Any:
    """The client's end of the connection the response came on (None: closed already)."""
    try:
        return response.extensions["network_stream"].get_extra_info("client_addr")
    except OSError:
        return None
