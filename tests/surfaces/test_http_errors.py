"""The shared error answers (``patron.surfaces.http.errors``) on a small app of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import StreamingResponse

from patron.domain.errors import Invalid, NotFound, PatronError, Unavailable
from patron.surfaces.http.errors import PLAIN, STANDARD, answer_errors, by_class
from patron.surfaces.voucherify.errors import TABLE as VOUCHERIFY

pytestmark = pytest.mark.anyio


class QueryInvalid(Invalid):
    """A subclass no table names."""


def test_a_class_takes_the_answer_of_its_nearest_named_base() -> None:
    assert by_class(VOUCHERIFY, QueryInvalid("x")).code == "invalid_payload"
    assert by_class(VOUCHERIFY, Unavailable("x")).status == 503
    assert by_class(STANDARD, NotFound("customer", "c")).status == 404
    assert by_class(STANDARD, type("Odd", (PatronError,), {})("x")).status == 400
    assert by_class(STANDARD, KeyError("x")).status == 500
    with pytest.raises(LookupError):
        by_class({Invalid: 1}, KeyError("x"))


async def test_framework_errors_and_what_happens_once_an_answer_started() -> None:
    app = FastAPI()
    answer_errors(app, PLAIN)

    @app.get("/numbers/{number}")
    async def number(number: int) -> dict[str, int]:
        return {"number": number}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"["
            raise RuntimeError("in the middle")

        return StreamingResponse(chunks())

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        invalid = await client.get("/numbers/seven")
        assert invalid.status_code == 400
        assert invalid.json()["code"] == "invalid_request"
        assert "number" in invalid.json()["message"]
        # Half an answer is out: the error goes on to the server, to close the connection.
        with pytest.raises(RuntimeError, match="in the middle"):
            await client.get("/stream")
