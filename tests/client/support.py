"""A scripted tracking server for httpx.MockTransport, and a client wired to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from patron.client import TrackingClient

Respond = Callable[[httpx.Request], httpx.Response]
Answer = httpx.Response | Respond
URL = "http://tracking.test/prefix"
# Fast settings: a tiny interval and backoff keep the suite quick.
FAST: dict[str, Any] = {"flush_interval": 0.001, "backoff_base": 0.0001, "max_retries": 3}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True})


def answer(status: int, headers: dict[str, str] | None = None, **body: Any) -> Respond:
    """A fresh ``status`` response with a JSON ``body`` for each request (no body if empty)."""

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, json=body or None)

    return respond


def refuse(*errors: dict[str, Any], status: int = 400, code: str = "invalid_request") -> Respond:
    """A Segment-style error answer listing ``errors``."""
    return answer(status, success=False, code=code, message="refused", errors=list(errors))


class Server:
    """Answers each request with the next of ``answers`` (the last repeats) and records it."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [ok]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer

    @staticmethod
    def batch_of(request: httpx.Request) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = orjson.loads(request.content)["batch"]
        return batch

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(request.content) for request in self.requests]

    def batches(self) -> list[list[dict[str, Any]]]:
        return [self.batch_of(request) for request in self.requests]

    def sizes(self) -> list[int]:
        return [len(batch) for batch in self.batches()]


def client_for(server: Server, **options: Any) -> TrackingClient:
    """A client of ``server`` with the fast settings, unless ``options`` say otherwise."""
    return TrackingClient("key", URL, transport=httpx.MockTransport(server), **{**FAST, **options})
