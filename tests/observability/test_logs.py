"""Log lines with timestamps, as text or JSON, each carrying the id of its request."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from patron.app import PatronApp, create_app
from patron.observability.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    uvicorn_log_config,
)
from patron.services import Services
from patron.settings import Settings
from tests.conftest import make_workspace
from tests.surfaces.serving import fail

pytestmark = pytest.mark.anyio

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """Leave Patron's loggers as a default app sets them up, not writing into a test's stream."""
    yield
    configure_logging(Settings())


async def logged_requests(
    database_url: str, log_format: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, list[httpx.Response]]:
    """Two tracking calls that log inside, a failing one, and a line logged outside any."""
    settings = Settings(database_url=database_url, key_cache_seconds=0, log_format=log_format)
    app = create_app(settings)
    stream = io.StringIO()
    configure_logging(settings, stream)  # as create_app did, into the stream
    async with app.api.router.lifespan_context(app.api):
        services = app.services
        workspace = await make_workspace(services)
        _log_inside_ingest(services, monkeypatch)
        monkeypatch.setattr(services.customers, "profile", fail)
        async with client(app) as api:
            auth = (workspace.write_key, "")
            responses = [
                await api.post("/v1/track", json={"userId": "a", "event": "e"}, auth=auth),
                await api.post("/v1/track", json={"userId": "b", "event": "e"}, auth=auth),
                await api.get("/v1/customers/a", headers=workspace.app_headers),
            ]
        logging.getLogger("patron.test").warning("outside any request")
    return stream.getvalue(), responses


def _log_inside_ingest(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    real = services.tracking.ingest

    async def ingest(**kwargs: Any) -> Any:
        logging.getLogger("patron.domain.tracking").warning("ingesting for %s", "a test")
        return await real(**kwargs)

    monkeypatch.setattr(services.tracking, "ingest", ingest)


def client(app: PatronApp) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://patron")


async def test_json_lines_carry_the_id_of_the_request_they_were_logged_in(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, (first, second, failed) = await logged_requests(database_url, "json", monkeypatch)
    assert (first.status_code, second.status_code, failed.status_code) == (200, 200, 500)
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert lines, "nothing was logged"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
        assert re.fullmatch(TIMESTAMP, line["time"])

    inside = [line for line in lines if line["message"] == "ingesting for a test"]
    assert [line["logger"] for line in inside] == ["patron.domain.tracking"] * 2
    ids = [line["request_id"] for line in inside]
    assert all(ids)
    assert len(set(ids)) == 2  # one id per request

    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["request_id"] == failed.headers["x-request-id"]  # the client's, with its v-
    assert error["request_id"].startswith("v-")
    assert "RuntimeError" in error["exception"]  # the traceback is part of the line

    outside = [line for line in lines if line["message"] == "outside any request"]
    assert len(outside) == 1
    assert "request_id" not in outside[0]


async def test_text_lines_start_with_a_timestamp(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, (_, _, failed) = await logged_requests(database_url, "text", monkeypatch)
    lines = [line for line in text.splitlines() if not line.startswith((" ", "Traceback"))]
    starts = [line for line in lines if re.match(TIMESTAMP + " ", line)]
    assert len(starts) >= 4, text
    inside = [line for line in starts if "ingesting for a test" in line]
    assert len(inside) == 2
    assert all(
        re.search(r"WARNING +patron\.domain\.tracking: .* \[request \w+\]$", x) for x in inside
    )
    request_id = failed.headers["x-request-id"]
    assert any("ERROR    patron: " in line and f"[request {request_id}]" in line for line in starts)
    assert any(line.endswith("outside any request") for line in starts)


@pytest.mark.parametrize(
    ("log_format", "formatter"), [("text", TextFormatter), ("json", JsonFormatter)]
)
def test_uvicorns_loggers_take_the_same_format(log_format: str, formatter: type) -> None:
    config = uvicorn_log_config(Settings(log_format=log_format))  # type: ignore[arg-type]
    factory = config["formatters"]["patron"]["()"]
    assert factory == f"{formatter.__module__}.{formatter.__qualname__}"
    for name in ("uvicorn", "uvicorn.access"):
        handlers = config["loggers"][name]["handlers"]
        assert all(config["handlers"][h]["formatter"] == "patron" for h in handlers)


def test_a_json_access_line_has_the_requests_fields() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/v1/track", "1.1", 200),
        None,
    )
    line = orjson.loads(JsonFormatter().format(record))
    assert line["message"] == '127.0.0.1:5000 - "POST /v1/track HTTP/1.1" 200'
    assert (line["method"], line["path"], line["status"]) == ("POST", "/v1/track", 200)
    assert line["logger"] == "uvicorn.access"
