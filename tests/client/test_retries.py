"""Retries and refusals: 5xx, 429, timeouts, network errors, and 400s naming messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from patron.client import DeliveryFailed, Problem, RequestRejected, TrackingClient, _sender
from tests.client.support import Server, answer, client_for, ok, refuse

pytestmark = pytest.mark.anyio


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the client waits between attempts, recorded instead of slept."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_sender, "sleep", record)
    return recorded


def message_ids(server: Server) -> list[list[str]]:
    return [[message["messageId"] for message in batch] for batch in server.batches()]


async def test_server_errors_are_retried_with_the_same_messages() -> None:
    server = Server(answer(500), answer(502), answer(503, code="unavailable"), ok)
    async with client_for(server) as client:
        await client.track("E", user_id="u1")
    assert len(server.requests) == 4
    first, *others = message_ids(server)
    assert all(ids == first for ids in others)  # the same messageId: the server dedupes


async def test_throttling_is_retried_after_the_retry_after_delay(delays: list[float]) -> None:
    throttled = answer(429, headers={"Retry-After": "7"}, code="rate_limited", message="slow down")
    server = Server(throttled, ok)
    async with client_for(server) as client:
        await client.track("E", user_id="u1")
    assert len(server.requests) == 2
    assert delays == [7.0]


async def test_retry_after_may_be_an_http_date_and_is_capped(delays: list[float]) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server = Server(
        answer(503, headers={"Retry-After": soon}),
        answer(429, headers={"Retry-After": "86400"}),
        answer(429, headers={"Retry-After": "soon"}),  # unusable: the backoff applies
        ok,
    )
    async with client_for(server, backoff_base=1.0) as client:
        await client.track("E", user_id="u1")
    assert 20 < delays[0] <= 30
    assert delays[1] == 60.0
    assert 2.0 <= delays[2] <= 6.0  # base * 2**2, times 0.5 to 1.5


async def test_backoff_grows_exponentially_with_jitter_up_to_its_cap(delays: list[float]) -> None:
    server = Server(answer(503))
    async with client_for(server, max_retries=6, backoff_base=1.0, backoff_max=8.0) as client:
        with pytest.raises(DeliveryFailed):
            await client.track("E", user_id="u1")
    assert len(delays) == 6
    for retry, delay in enumerate(delays, start=1):
        backoff = min(8.0, 2.0 ** (retry - 1))
        assert backoff * 0.5 <= delay <= backoff * 1.5


async def test_network_errors_and_timeouts_are_retried() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    server = Server(unreachable, slow, ok)
    async with client_for(server) as client:
        await client.track("E", user_id="u1")
    assert len(server.requests) == 3


async def test_giving_up_says_why_and_keeps_the_last_cause() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    down = Server(unreachable)
    async with client_for(down, max_retries=2) as client:
        with pytest.raises(DeliveryFailed) as failed:
            await client.track("E", user_id="u1")
    assert len(down.requests) == 3
    assert (failed.value.attempts, failed.value.status) == (3, None)
    assert "ConnectError" in failed.value.reason
    assert isinstance(failed.value.__cause__, httpx.ConnectError)

    busy = Server(answer(503, code="unavailable", message="database busy"))
    async with client_for(busy, max_retries=0) as client:
        with pytest.raises(DeliveryFailed) as failed:
            await client.track("E", user_id="u1")
    assert len(busy.requests) == 1
    assert (failed.value.attempts, failed.value.status) == (1, 503)
    assert "unavailable: database busy" in failed.value.reason
    assert isinstance(failed.value.__cause__, httpx.HTTPStatusError)


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A local TCP port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_real_read_timeout_is_retried_then_given_up(silent_port: int) -> None:
    host = f"http://127.0.0.1:{silent_port}"
    async with TrackingClient(
        "key", host, timeout=0.05, max_retries=1, backoff_base=0.0001
    ) as client:
        with pytest.raises(DeliveryFailed) as failed:
            await client.track("E", user_id="u1")
    assert failed.value.attempts == 2
    assert isinstance(failed.value.__cause__, httpx.ReadTimeout)


async def test_a_real_refused_connection_is_a_network_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()  # nothing listens on the port any more
    async with TrackingClient(
        "key", f"http://127.0.0.1:{port}", max_retries=1, backoff_base=0.0001
    ) as client:
        with pytest.raises(DeliveryFailed) as failed:
            await client.track("E", user_id="u1")
    assert isinstance(failed.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_client_errors_are_not_retried(status: int) -> None:
    server = Server(answer(status, success=False, code="nope", message="refused as a whole"))
    async with client_for(server) as client:
        calls = [client.track("E", user_id="u1"), client.track("E", user_id="u2")]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert len(server.requests) == 1
    for outcome in outcomes:
        assert isinstance(outcome, RequestRejected)
        assert (outcome.status, outcome.code, outcome.message) == (
            status,
            "nope",
            "refused as a whole",
        )
        assert outcome.problems == ()
    assert outcomes[0] is not outcomes[1]  # each caller gets an exception of its own


async def test_a_refusal_that_is_not_json_still_says_what_came_back() -> None:
    server = Server(httpx.Response(400, text="Bad Request: go away"))
    async with client_for(server) as client:
        with pytest.raises(RequestRejected) as refused:
            await client.track("E", user_id="u1")
    assert (refused.value.code, refused.value.message) == ("unknown", "Bad Request: go away")


async def test_messages_a_400_names_fail_and_the_others_are_sent_again_once() -> None:
    def refuse_bad(request: httpx.Request) -> httpx.Response:
        batch = Server.batch_of(request)
        named = [
            {"index": i, "field": field, "message": f"bad {field}"}
            for i, message in enumerate(batch)
            if message["userId"] == "bad"
            for field in ("userId", "event")
        ]
        return refuse(*named)(request) if named else ok(request)

    server = Server(refuse_bad)
    async with client_for(server, batch_size=5) as client:
        users = ["a", "bad", "c", "bad", "e"]
        calls = [client.track("E", user_id=user) for user in users]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert [outcome is None for outcome in outcomes] == [True, False, True, False, True]
    refused = outcomes[1]
    assert isinstance(refused, RequestRejected)
    assert (refused.status, refused.code, refused.message) == (400, "invalid_request", "refused")
    assert refused.problems == (Problem("userId", "bad userId"), Problem("event", "bad event"))
    assert [[m["userId"] for m in batch] for batch in server.batches()] == [users, ["a", "c", "e"]]


async def test_a_400_naming_no_message_fails_the_whole_batch() -> None:
    whole = {"index": None, "field": None, "message": "body contains a NUL character"}
    server = Server(refuse(whole))
    async with client_for(server, batch_size=3) as client:
        calls = [client.track("E", user_id=user) for user in "abc"]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert len(server.requests) == 1
    for outcome in outcomes:
        assert isinstance(outcome, RequestRejected)
        assert outcome.problems == (Problem(None, "body contains a NUL character"),)


async def test_a_400_with_an_index_outside_the_batch_fails_the_whole_batch() -> None:
    server = Server(refuse({"index": 7, "field": "userId", "message": "?"}))
    async with client_for(server, batch_size=2) as client:
        calls = [client.track("E", user_id=user) for user in "ab"]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert len(server.requests) == 1
    assert all(isinstance(outcome, RequestRejected) for outcome in outcomes)


async def test_a_second_400_is_final() -> None:
    server = Server(
        refuse({"index": 0, "field": "userId", "message": "first"}),
        refuse({"index": 1, "field": "event", "message": "second"}),
    )
    async with client_for(server, batch_size=3) as client:
        calls = [client.track("E", user_id=user) for user in "abc"]
        a, b, c = await asyncio.gather(*calls, return_exceptions=True)
    assert len(server.requests) == 2
    assert isinstance(a, RequestRejected)
    assert a.problems == (Problem("userId", "first"),)
    assert isinstance(c, RequestRejected)
    assert c.problems == (Problem("event", "second"),)
    assert isinstance(b, RequestRejected)
    assert b.problems == ()  # refused with its batch, nothing said about it


async def test_when_every_message_is_named_nothing_is_sent_again() -> None:
    server = Server(refuse({"index": 0, "message": "x"}, {"index": 1, "message": "y"}))
    async with client_for(server, batch_size=2) as client:
        calls = [client.track("E", user_id=user) for user in "ab"]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert len(server.requests) == 1
    assert [o.problems for o in outcomes] == [(Problem(None, "x"),), (Problem(None, "y"),)]  # type: ignore[union-attr]


async def test_the_resend_is_retried_like_any_request() -> None:
    server = Server(refuse({"index": 0, "field": "userId", "message": "no"}), answer(503), ok)
    async with client_for(server, batch_size=2) as client:
        bad, good = client.track("E", user_id="bad"), client.track("E", user_id="good")
        with pytest.raises(RequestRejected):
            await bad
        await good
    assert server.sizes() == [2, 1, 1]


async def test_an_unexpected_failure_fails_the_batch_and_the_sender_carries_on() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug below the client")

    server = Server(broken, ok)
    async with client_for(server) as client:
        with pytest.raises(DeliveryFailed, match="a bug below the client") as failed:
            await client.track("E", user_id="u1")
        assert isinstance(failed.value.__cause__, RuntimeError)
        await client.track("E", user_id="u1")  # the sender is still alive
    assert len(server.requests) == 2
