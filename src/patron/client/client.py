"""The tracking client: calls return awaitables; messages travel in batches in the background."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from patron.client._answers import RetryPolicy
from patron.client._batching import MAX_BATCH_SIZE, Outbox, Pending
from patron.client._messages import build, encode, take
from patron.client._sender import Sender, settle
from patron.client.customer import Customer
from patron.client.errors import ClientClosed, DeliveryFailed, InvalidCall

log = logging.getLogger("patron.client")

DEFAULT_HOST = "http://127.0.0.1:8000"

ErrorHandler = Callable[[BaseException, dict[str, Any]], object]


class TrackingClient:
    """An asynchronous client of Patron's (or any Segment-compatible) tracking API.

    Every call (:meth:`identify`, :meth:`track`, …) checks and encodes one
    message, queues it, and returns an :class:`asyncio.Future` that completes
    when the server has acknowledged the message — Patron acknowledges only
    committed data — or fails with
    :class:`~patron.client.errors.RequestRejected` (a 4xx, never retried) or
    :class:`~patron.client.errors.DeliveryFailed` (5xx, 429, network errors
    and timeouts are retried up to ``max_retries`` times with exponential
    backoff and jitter, honouring ``Retry-After``). A call the client can tell
    is wrong raises at once and sends nothing.

    Nobody has to await the futures (fire and forget is fine): the client
    retrieves every failure itself, so asyncio never reports "Future exception
    was never retrieved". Each failure is passed to ``on_error(error,
    message)`` when given, else logged as a warning on the ``patron.client``
    logger.

    Messages go out in order, one request at a time, in batches of at most
    ``batch_size`` messages and 500 KB — as soon as a batch is full, else
    ``flush_interval`` seconds after the first message was queued.
    :meth:`flush` sends everything queued and waits for the answers;
    :meth:`aclose` (or leaving ``async with``) flushes, then stops. Use one
    client from one event loop.
    """

    def __init__(
        self,
        write_key: str,
        host: str = DEFAULT_HOST,
        *,
        batch_size: int = 100,
        flush_interval: float = 0.5,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        on_error: ErrorHandler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        _check_options(
            write_key=write_key,
            host=host,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_retries=max_retries,
            timeout=timeout,
        )
        if transport is not None and http_client is not None:
            raise InvalidCall("give a transport or an http_client, not both")
        self.flush_interval = flush_interval
        self.on_error = on_error
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        policy = RetryPolicy(max_retries, backoff_base, backoff_max)
        self._sender = Sender(self._http, host.rstrip("/") + "/v1/batch", write_key, policy)
        self._outbox = Outbox(batch_size=batch_size)
        self._in_flight: list[Pending] = []
        self._urgent = 0  # how many of the oldest queued messages a flush wants sent now
        self._queued = asyncio.Event()  # the outbox is not empty
        self._hurry = asyncio.Event()  # a batch is due: full, or flushed
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has been called."""
        return self._closed

    # -- customers and calls -------------------------------------------------

    def new_customer(self, **fields: Any) -> Customer:
        """A :class:`Customer` of this client.

        Takes ``user_id``/``userId``, ``anonymous_id``/``anonymousId`` and ``traits``.
        """
        return Customer(self, **fields)

    def identify(self, **fields: Any) -> asyncio.Future[None]:
        """Who a customer is: ids, ``traits``, and the common and custom fields."""
        return self._enqueue(build("identify", fields))

    def track(self, event: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """What a customer did: ``event`` (required), ``properties``, common and custom fields."""
        if not isinstance(event, str) or not event.strip():
            raise InvalidCall(f"track needs an event name (a non-empty string), not {event!r}")
        return self._enqueue(build("track", {**fields, "event": event}))

    def page(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """A page view: ``name``, ``category``, ``properties``, common and custom fields."""
        return self._enqueue(build("page", {**fields, "name": name}))

    def screen(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """A screen view in an app: ``name``, ``category``, ``properties``, and the rest."""
        return self._enqueue(build("screen", {**fields, "name": name}))

    def group(self, group_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """The customer belongs to ``group_id``/``groupId``; ``traits`` describe the group."""
        group_id = take({**fields, "group_id": group_id}, "group_id")
        fields.pop("groupId", None)
        if group_id is None:
            raise InvalidCall("group needs a group_id (groupId)")
        return self._enqueue(build("group", {**fields, "groupId": group_id}))

    def alias(self, user_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """``previous_id``/``previousId`` and ``user_id``/``userId`` are one person."""
        fields["user_id"] = take({**fields, "user_id": user_id}, "user_id")
        fields.pop("userId", None)
        previous_id = take(fields, "previous_id")
        if previous_id is None or fields["user_id"] is None:
            raise InvalidCall("alias needs a previous_id (previousId) and a user_id (userId)")
        return self._enqueue(build("alias", {**fields, "previousId": previous_id}))

    # -- flushing and closing ------------------------------------------------

    async def flush(self) -> None:
        """Send everything queued now, and wait until the server has answered for it.

        Failures are not raised here: they belong to each call's own awaitable.
        """
        waiting = [pending.future for pending in (*self._in_flight, *self._outbox)]
        if not waiting:
            return
        self._urgent = len(self._outbox)
        self._hurry.set()
        await asyncio.wait(waiting)  # unlike gather, never cancels the callers' futures

    async def aclose(self) -> None:
        """Flush, then stop; later calls raise :class:`~patron.client.errors.ClientClosed`.

        With the server down this waits for the retries to run out. A given
        ``http_client`` is left open: its owner closes it.
        """
        if self._closed:
            return
        self._closed = True
        try:
            await self.flush()
        finally:
            if self._task is not None:
                self._task.cancel()
                await asyncio.wait([self._task])
            if self._owns_http:
                await self._http.aclose()

    async def __aenter__(self) -> TrackingClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the queue and the background sender ---------------------------------

    def _enqueue(self, message: dict[str, Any]) -> asyncio.Future[None]:
        if self._closed:
            raise ClientClosed("the client is closed")
        data = encode(message)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(functools.partial(self._report, message))
        self._outbox.put(Pending(message, data, future, loop.time()))
        self._queued.set()
        if self._outbox.full():
            self._hurry.set()  # a full batch goes now, not at the end of the interval
        if self._task is None:
            self._task = loop.create_task(self._run(), name="patron-client-sender")
        return future

    async def _run(self) -> None:
        try:
            while True:
                await self._queued.wait()
                if not self._due():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), self._time_left())
                self._in_flight = self._outbox.take()
                self._urgent = max(0, self._urgent - len(self._in_flight))
                if not self._due():
                    self._hurry.clear()
                if not self._outbox:
                    self._queued.clear()
                await self._deliver(self._in_flight)
                self._in_flight = []
        except asyncio.CancelledError:
            for pending in (*self._in_flight, *self._outbox.drain()):
                settle(pending.future, ClientClosed("the client stopped before an answer came"))
            raise

    def _due(self) -> bool:
        return self._urgent > 0 or self._outbox.full()

    def _time_left(self) -> float:
        """Seconds until the oldest queued message has waited ``flush_interval``."""
        oldest = self._outbox.oldest()
        if oldest is None:
            return 0.0
        return max(0.0, oldest.queued_at + self.flush_interval - asyncio.get_running_loop().time())

    async def _deliver(self, batch: list[Pending]) -> None:
        try:
            await self._sender.deliver(batch)
        except Exception as error:  # a bug must fail the batch, not hang its callers
            log.exception("delivering a batch failed unexpectedly")
            for pending in batch:
                failed = DeliveryFailed(1, f"{type(error).__name__}: {error}")
                failed.__cause__ = error
                settle(pending.future, failed)

    def _report(self, message: dict[str, Any], future: asyncio.Future[None]) -> None:
        # Retrieving the exception here is what keeps asyncio quiet about
        # futures nobody awaits.
        if future.cancelled() or (error := future.exception()) is None:
            return
        if self.on_error is None:
            log.warning("%s message %s failed: %s", message["type"], message["messageId"], error)
            return
        try:
            self.on_error(error, message)
        except Exception:
            log.exception("on_error raised for message %s", message["messageId"])


def _check_options(
    *,
    write_key: str,
    host: str,
    batch_size: int,
    flush_interval: float,
    max_retries: int,
    timeout: float,
) -> None:
    if not isinstance(write_key, str) or not write_key:
        raise InvalidCall("a write key is required")
    if not host.startswith(("http://", "https://")):
        raise InvalidCall(f"host must be an http:// or https:// URL, not {host!r}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise InvalidCall(f"batch_size must be from 1 to {MAX_BATCH_SIZE:,} (Segment's limit)")
    if flush_interval < 0 or max_retries < 0 or timeout <= 0:
        raise InvalidCall("flush_interval and max_retries must be >= 0, timeout > 0")
