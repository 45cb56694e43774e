"""Delivering one batch: POST /v1/batch, retry what is transient, settle each message."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from patron import __version__
from patron.client._answers import Refusal, RetryPolicy, Transient, is_retryable, refusal
from patron.client._batching import Pending, body, sent_at
from patron.client.errors import DeliveryFailed

HEADERS = {"Content-Type": "application/json", "User-Agent": f"patron-client/{__version__}"}

# What the sender waits with between attempts; tests replace it to see the delays.
sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class _GaveUp(Exception):
    def __init__(self, attempts: int, last: Transient) -> None:
        super().__init__(last.reason)
        self.attempts = attempts
        self.last = last


class Sender:
    """Posts batches to ``url`` with the write key as the Basic auth user name."""

    def __init__(
        self, http: httpx.AsyncClient, url: str, write_key: str, policy: RetryPolicy
    ) -> None:
        self.http = http
        self.url = url
        self.auth = httpx.BasicAuth(write_key, "")
        self.policy = policy

    async def deliver(self, batch: list[Pending]) -> None:
        """Send ``batch`` until the server has answered for it; settle every future.

        The server refuses a whole batch for one bad message and names it by
        index: those messages fail with what the server said about them, and
        the others are sent once more. A refusal naming no message fails all.
        """
        try:
            refused = await self._send(batch)
            if refused is not None and refused.names_messages():
                for index, pending in enumerate(batch):
                    if index in refused.by_index:
                        settle(pending.future, refused.error_for(index))
                batch = [p for i, p in enumerate(batch) if i not in refused.by_index]
                refused = await self._send(batch) if batch else None
        except _GaveUp as gave_up:
            for pending in batch:
                settle(pending.future, _delivery_failed(gave_up))
            return
        for index, pending in enumerate(batch):
            settle(pending.future, refused.error_for(index) if refused else None)

    async def _send(self, batch: list[Pending]) -> Refusal | None:
        """Post until answered: None when accepted, the refusal of a 4xx, or _GaveUp."""
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._post(batch)
            if not isinstance(outcome, Transient):
                return outcome
            if attempt > self.policy.max_retries:
                raise _GaveUp(attempt, outcome)
            await sleep(self.policy.delay(attempt, outcome.retry_after))

    async def _post(self, batch: list[Pending]) -> Refusal | Transient | None:
        """One attempt, with ``sentAt`` set to now."""
        try:
            response = await self.http.post(
                self.url, content=body(batch, sent_at()), auth=self.auth, headers=HEADERS
            )
        except httpx.HTTPError as error:  # timeouts, refused connections, broken streams
            return Transient.of_error(error)
        if response.is_success:
            return None
        if is_retryable(response.status_code):
            return Transient.of_response(response)
        return refusal(response, len(batch))


def settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Complete ``future`` (unless its caller cancelled it): with ``error``, or done."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _delivery_failed(gave_up: _GaveUp) -> DeliveryFailed:
    error = DeliveryFailed(gave_up.attempts, gave_up.last.reason, gave_up.last.status)
    error.__cause__ = gave_up.last.cause
    return error
