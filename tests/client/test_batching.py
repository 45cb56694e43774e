"""Batching, flushing and closing, against a scripted server (httpx.MockTransport)."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import httpx
import orjson
import pytest

import patron
from patron.client import (
    ClientClosed,
    InvalidCall,
    MessageTooLarge,
    RequestRejected,
    TrackingClient,
)
from tests.client.support import URL, Server, answer, client_for

pytestmark = pytest.mark.anyio

REQUEST_LIMIT = 500 * 1024
MESSAGE_LIMIT = 32 * 1024
WHEN = "2026-01-02T03:04:05.000Z"  # a fixed timestamp keeps encoded sizes fixed


async def test_messages_go_in_batches_in_order_with_the_write_key() -> None:
    server = Server()
    async with client_for(server, batch_size=5, flush_interval=60) as client:
        calls = [client.track("E", user_id=f"u{i}") for i in range(12)]
    await asyncio.gather(*calls)  # two full batches went at once, the rest at closing
    assert server.sizes() == [5, 5, 2]
    sent = [message["userId"] for batch in server.batches() for message in batch]
    assert sent == [f"u{i}" for i in range(12)]
    assert len({m["messageId"] for batch in server.batches() for m in batch}) == 12
    request = server.requests[0]
    assert request.method == "POST"
    assert request.url == URL + "/v1/batch"
    assert request.headers["authorization"] == "Basic a2V5Og=="  # "key:" (empty password)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"patron-client/{patron.__version__}"
    assert all(body["sentAt"].endswith("Z") for body in server.bodies())


async def test_a_partial_batch_goes_after_the_flush_interval() -> None:
    server = Server()
    async with client_for(server, batch_size=100, flush_interval=0.001) as client:
        await client.track("E", user_id="u1")  # resolves with no flush
        assert server.sizes() == [1]


async def test_flush_sends_now_and_waits_for_the_answers() -> None:
    server = Server()
    async with client_for(server, flush_interval=60) as client:
        await client.flush()  # nothing queued: returns at once
        calls = [client.track("E", user_id="u1") for _ in range(3)]
        await client.flush()
        assert all(call.done() for call in calls)
        assert server.sizes() == [3]


async def test_cancelling_flush_leaves_the_calls_pending() -> None:
    release = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json={"success": True})

    async with TrackingClient("key", URL, transport=httpx.MockTransport(slow)) as client:
        call = client.track("E", user_id="u1")
        flushing = asyncio.ensure_future(client.flush())
        await asyncio.sleep(0)
        flushing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flushing
        assert not call.cancelled()
        release.set()
        await call


async def test_a_close_cut_short_fails_what_was_not_answered() -> None:
    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    client = TrackingClient("key", URL, transport=httpx.MockTransport(never))
    call = client.track("E", user_id="u1")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.aclose(), timeout=0.01)
    with pytest.raises(ClientClosed, match="stopped before an answer"):
        await call
    assert client.closed


async def test_a_batch_never_exceeds_the_request_limit_and_is_packed_full() -> None:
    server = Server()
    async with client_for(server, batch_size=2_500, flush_interval=60) as client:
        blob = {"blob": "x" * 30_000}
        calls = [client.track("E", user_id="u", properties=blob) for _ in range(40)]
    await asyncio.gather(*calls)
    assert sum(server.sizes()) == 40
    assert server.sizes() == [16, 16, 8]
    for request, next_batch in zip(server.requests, server.batches()[1:], strict=False):
        assert len(request.content) <= REQUEST_LIMIT
        # ... and the next message would not have fitted.
        assert len(request.content) + 1 + len(orjson.dumps(next_batch[0])) > REQUEST_LIMIT


async def test_a_body_of_exactly_the_request_limit_is_one_request() -> None:
    server = Server()
    async with client_for(server, batch_size=2_500, flush_interval=60) as client:
        client.track("Probe", user_id="u", timestamp=WHEN, properties={"x": ""})
        await client.flush()
        probe = len(server.requests[0].content)
        # 16 messages of size m: envelope + 16 m + 15 commas = the limit.
        envelope = probe - len(orjson.dumps(server.batches()[0][0]))
        padding, spare = divmod(REQUEST_LIMIT - envelope - 15, 16)
        base = len(orjson.dumps(server.batches()[0][0]))
        sizes = [padding - base + (1 if i < spare else 0) for i in range(16)]
        calls = [
            client.track("Probe", user_id="u", timestamp=WHEN, properties={"x": "y" * size})
            for size in sizes
        ]
        await asyncio.gather(*calls)
    assert server.sizes() == [1, 16]
    assert len(server.requests[1].content) == REQUEST_LIMIT


async def test_a_message_of_exactly_32_kb_goes_and_one_byte_more_fails_at_once() -> None:
    server = Server()
    async with client_for(server) as client:
        await client.track("Probe", user_id="u", timestamp=WHEN, properties={"x": ""})
        padding = MESSAGE_LIMIT - len(orjson.dumps(server.batches()[0][0]))
        await client.track("Probe", user_id="u", timestamp=WHEN, properties={"x": "y" * padding})
        assert len(orjson.dumps(server.batches()[1][0])) == MESSAGE_LIMIT
        with pytest.raises(MessageTooLarge) as too_large:
            client.track(
                "Probe", user_id="u", timestamp=WHEN, properties={"x": "y" * (padding + 1)}
            )
    assert (too_large.value.size, too_large.value.limit) == (MESSAGE_LIMIT + 1, MESSAGE_LIMIT)
    assert len(server.requests) == 2  # the oversize message made no request


async def test_closing_flushes_then_refuses_calls() -> None:
    server = Server()
    client = client_for(server, flush_interval=60)
    calls = [client.identify(user_id="u1"), client.track("E", user_id="u1")]
    await client.aclose()
    assert all(call.done() and call.exception() is None for call in calls)
    assert server.sizes() == [2]
    assert client.closed
    with pytest.raises(ClientClosed):
        client.track("E", user_id="u1")
    await client.aclose()  # closing twice is fine


async def test_a_given_http_client_is_used_and_left_open() -> None:
    server = Server()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        async with TrackingClient("key", URL, http_client=http, flush_interval=0.001) as client:
            await client.track("E", user_id="u1")
        assert not http.is_closed
    assert len(server.requests) == 1


async def test_the_bytes_sent_are_taken_when_the_call_is_made() -> None:
    server = Server()
    async with client_for(server, flush_interval=60) as client:
        properties: dict[str, Any] = {"total": 1}
        call = client.track("E", user_id="u1", properties=properties)
        properties["total"] = 2  # too late to change what is sent
        properties["blob"] = "x" * 40_000  # ... or its size
        await client.flush()
        await call
    assert server.batches()[0][0]["properties"] == {"total": 1}


async def test_a_failure_nobody_awaits_is_reported_not_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server(answer(400, code="invalid_request", message="no"))
    async with client_for(server) as client:
        client.track("Forgotten", user_id="u1")  # fire and forget
        await client.flush()
    gc.collect()
    assert "never retrieved" not in caplog.text
    warnings = [r for r in caplog.records if r.name == "patron.client"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "400 invalid_request" in warnings[0].getMessage()


async def test_on_error_receives_each_failure_instead_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reported: list[tuple[BaseException, dict[str, Any]]] = []
    server = Server(answer(401, code="unauthorized", message="bad key"))
    async with client_for(server, on_error=lambda e, m: reported.append((e, m))) as client:
        client.track("First", user_id="u1")
        client.track("Second", user_id="u1")
        await client.flush()
    assert [message["event"] for _, message in reported] == ["First", "Second"]
    assert all(isinstance(error, RequestRejected) for error, _ in reported)
    assert not [r for r in caplog.records if r.name == "patron.client"]


async def test_an_on_error_that_raises_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def broken(error: BaseException, message: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    server = Server(answer(400, code="invalid_request", message="no"))
    async with client_for(server, on_error=broken) as client:
        call = client.track("E", user_id="u1")
        await client.flush()
        with pytest.raises(RequestRejected):
            await call
    assert "on_error raised" in caplog.text


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"write_key": ""}, "write key"),
        ({"host": "127.0.0.1:8000"}, "http"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2_501}, "batch_size"),
        ({"timeout": 0}, "timeout"),
        ({"transport": httpx.MockTransport(Server()), "http_client": "x"}, "not both"),
    ],
)
def test_unusable_options_are_refused(options: dict[str, Any], complaint: str) -> None:
    settings = {"write_key": "key", "host": URL, **options}
    with pytest.raises(InvalidCall, match=complaint):
        TrackingClient(**settings)
