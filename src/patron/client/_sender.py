"""Delivering one batch: POST /v1/batch, retry what is transient, settle each message."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from patron.client.errors import DeliveryFailed, MessageRejected

MAX_RETRY_AFTER = 60.0  # seconds; a guard against absurd Retry-After headers


def encode(value: Any) -> bytes:
    """JSON as sent: datetimes, UUIDs and dataclasses natively, anything else as str()."""
    return orjson.dumps(value, default=str)


@dataclass(slots=True)
class Pending:
    """A message waiting to be acknowledged, and the future its caller holds."""

    message: dict[str, Any]
    size: int
    future: asyncio.Future[None] = field(repr=False)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``base * 2**attempt``, capped, times 0.5 to 1.5."""

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        backoff: float = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return backoff * random.uniform(0.5, 1.5)


class _Transient(Exception):
    def __init__(self, cause: str, retry_after: float | None = None) -> None:
        super().__init__(cause)
        self.retry_after = retry_after


class Sender:
    """Posts batches to ``{host}/v1/batch`` with the write key as Basic auth user."""

    def __init__(self, http: httpx.AsyncClient, url: str, write_key: str, policy: RetryPolicy):
        self.http = http
        self.url = url
        self.auth = httpx.BasicAuth(write_key, "")
        self.policy = policy

    async def deliver(self, batch: list[Pending]) -> None:
        """Send ``batch`` until it is acknowledged or fails; settle every future."""
        attempt = 0
        resent = False
        while True:
            try:
                rejected = await self._post(batch)
            except _Transient as transient:
                attempt += 1
                if attempt > self.policy.max_retries:
                    _fail(batch, DeliveryFailed(attempt, str(transient)))
                    return
                await asyncio.sleep(self.policy.delay(attempt, transient.retry_after))
                continue
            if not rejected:
                _succeed(batch)
                return
            if None in rejected or resent:  # refused as a whole, or again after a split
                _fail(batch, next(iter(rejected.values())))
                return
            # The server refuses a whole batch for one bad message and names it:
            # fail exactly the named ones, and send the others once more.
            for index, error in rejected.items():
                assert index is not None
                _settle(batch[index].future, error)
            batch = [pending for i, pending in enumerate(batch) if i not in rejected]
            resent = True
            if not batch:
                return

    async def _post(self, batch: list[Pending]) -> dict[int | None, MessageRejected]:
        """One attempt. Returns the rejected messages by index ({} when accepted)."""
        body = encode(
            {
                "batch": [pending.message for pending in batch],
                "sentAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
        )
        try:
            response = await self.http.post(
                self.url,
                content=body,
                auth=self.auth,
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as error:  # timeouts, refused connections, broken streams
            raise _Transient(f"{type(error).__name__}: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(
                f"HTTP {response.status_code}", _retry_after(response.headers.get("retry-after"))
            )
        if response.is_success:
            return {}
        return _rejections(response, len(batch))


def _rejections(response: httpx.Response, size: int) -> dict[int | None, MessageRejected]:
    """Which messages a 4xx refused: by index when the server says, else all (key None)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    code = str(body.get("code", "unknown"))
    message = str(body.get("message", response.text[:200] or response.reason_phrase))
    named: dict[int | None, MessageRejected] = {}
    for problem in body.get("errors") or []:
        index = problem.get("index") if isinstance(problem, dict) else None
        if isinstance(index, int) and 0 <= index < size and index not in named:
            named[index] = MessageRejected(
                status, code, str(problem.get("message", message)), problem.get("field")
            )
    return named or {None: MessageRejected(status, code, message)}


def _retry_after(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:
        return None


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _succeed(batch: list[Pending]) -> None:
    for pending in batch:
        _settle(pending.future, None)


def _fail(batch: list[Pending], error: BaseException) -> None:
    for pending in batch:
        _settle(pending.future, error)
