"""Batching, retries and failures, against a mock transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import orjson
import pytest

from patron.client import DeliveryFailed, MessageRejected, TrackingClient

pytestmark = pytest.mark.anyio

OK = httpx.Response(200, json={"success": True})


class Server:
    """Answers each request with the next of ``answers`` (the last repeats) and records it."""

    def __init__(self, *answers: httpx.Response | Callable[[httpx.Request], httpx.Response]):
        self.answers = list(answers) or [OK]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer

    def batches(self) -> list[list[dict]]:
        return [orjson.loads(request.content)["batch"] for request in self.requests]


def client_for(server: Server, **options: object) -> TrackingClient:
    settings: dict = {"flush_interval": 0.01, "backoff_base": 0.001, "max_retries": 3}
    settings.update(options)
    return TrackingClient(
        "key", "http://tracking.test/prefix", transport=httpx.MockTransport(server), **settings
    )


async def test_messages_go_in_batches_with_auth_and_sent_at() -> None:
    server = Server()
    async with client_for(server, batch_size=5, flush_interval=60) as client:
        await asyncio.gather(*(client.track("E", user_id=f"u{i}") for i in range(12)))
    assert [len(batch) for batch in server.batches()] == [5, 5, 2]
    request = server.requests[0]
    assert request.url == "http://tracking.test/prefix/v1/batch"
    assert request.headers["authorization"] == "Basic a2V5Og=="  # "key:"
    body = orjson.loads(request.content)
    assert "sentAt" in body
    assert len({m["messageId"] for batch in server.batches() for m in batch}) == 12


async def test_a_batch_never_exceeds_the_request_limit() -> None:
    server = Server()
    async with client_for(server, batch_size=100, flush_interval=60) as client:
        big = {"blob": "x" * 30_000}
        await asyncio.gather(*(client.track("E", user_id="u", properties=big) for i in range(40)))
    assert all(len(request.content) <= 500 * 1024 for request in server.requests)
    assert sum(len(batch) for batch in server.batches()) == 40


async def test_server_errors_and_throttling_are_retried() -> None:
    throttled = httpx.Response(429, headers={"Retry-After": "0"}, json={"code": "rate_limited"})
    server = Server(httpx.Response(503), throttled, OK)
    async with client_for(server) as client:
        await client.track("E", user_id="u1")
    assert len(server.requests) == 3
    first, last = (
        orjson.loads(r.content)["batch"][0] for r in (server.requests[0], server.requests[-1])
    )
    assert first["messageId"] == last["messageId"]  # the same message, so the server dedupes


async def test_network_errors_and_timeouts_are_retried_then_given_up() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    recovering = Server(unreachable, slow, OK)
    async with client_for(recovering) as client:
        await client.track("E", user_id="u1")
    assert len(recovering.requests) == 3

    down = Server(unreachable)
    async with client_for(down, max_retries=2) as client:
        with pytest.raises(DeliveryFailed) as failed:
            await client.track("E", user_id="u1")
    assert failed.value.attempts == 3
    assert "ConnectError" in failed.value.cause
    assert len(down.requests) == 3


async def test_client_errors_are_not_retried() -> None:
    server = Server(httpx.Response(401, json={"code": "unauthorized", "message": "bad key"}))
    async with client_for(server) as client:
        futures = [client.track("E", user_id="u1"), client.track("E", user_id="u2")]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert len(server.requests) == 1
    assert all(isinstance(o, MessageRejected) and o.status == 401 for o in outcomes)
    assert outcomes[0].message == "bad key"  # type: ignore[union-attr]


async def test_a_refused_message_is_dropped_and_the_rest_resent_once() -> None:
    def refuse_second(request: httpx.Request) -> httpx.Response:
        batch = orjson.loads(request.content)["batch"]
        if any(m["userId"] == "bad" for m in batch):
            index = next(i for i, m in enumerate(batch) if m["userId"] == "bad")
            return httpx.Response(
                400,
                json={
                    "code": "invalid_request",
                    "message": "no",
                    "errors": [{"index": index, "field": "userId", "message": "refused"}],
                },
            )
        return OK

    server = Server(refuse_second)
    async with client_for(server, batch_size=3) as client:
        futures = [client.track("E", user_id=u) for u in ("a", "bad", "c")]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
    assert (outcomes[0], outcomes[2]) == (None, None)
    assert isinstance(outcomes[1], MessageRejected)
    assert (outcomes[1].field, outcomes[1].message) == ("userId", "refused")
    assert [len(b) for b in server.batches()] == [3, 2]


async def test_unawaited_failures_are_logged_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    reported: list[tuple[BaseException, dict]] = []
    server = Server(httpx.Response(400, json={"code": "invalid_request", "message": "no"}))
    async with client_for(
        server, on_error=lambda error, message: reported.append((error, message))
    ) as client:
        client.track("Forgotten", user_id="u1")  # fire and forget
        await client.flush()
    assert len(reported) == 1
    assert reported[0][1]["event"] == "Forgotten"
    assert "was not delivered" in caplog.text


async def test_values_json_lacks_travel_as_text() -> None:
    from decimal import Decimal

    server = Server()
    async with client_for(server) as client:
        await client.track("Paid", user_id="u1", properties={"total": Decimal("9.99"), "tags": {1}})
    sent = server.batches()[0][0]["properties"]
    assert sent == {"total": "9.99", "tags": "{1}"}


async def test_an_unexpected_failure_fails_the_batch_instead_of_hanging() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug below the client")

    server = Server(broken, OK)
    async with client_for(server) as client:
        with pytest.raises(DeliveryFailed, match="a bug below the client"):
            await client.track("E", user_id="u1")
        await client.track("E", user_id="u1")  # the sender is still alive
    assert len(server.requests) == 2
