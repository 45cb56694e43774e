"""The tracking client: calls return awaitables; messages travel in batches in the background."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from patron.client._messages import build, take
from patron.client._sender import Pending, RetryPolicy, Sender, encode
from patron.client.customer import Customer
from patron.client.errors import ClientClosed, DeliveryFailed, InvalidCall, MessageTooLarge

log = logging.getLogger("patron.client")

DEFAULT_HOST = "http://127.0.0.1:8000"
MAX_MESSAGE_BYTES = 32 * 1024  # the server's limits
MAX_REQUEST_BYTES = 500 * 1024
# Messages per request, leaving room for {"batch": [...], "sentAt": "..."}.
_BATCH_BYTES = MAX_REQUEST_BYTES - 1024

ErrorHandler = Callable[[BaseException, dict[str, Any]], None]


class TrackingClient:
    """An asynchronous client of Patron's (or any Segment-compatible) tracking API.

    Every call (:meth:`identify`, :meth:`track`, …) queues one message and
    returns an :class:`asyncio.Future` that completes when the server has
    acknowledged it — Patron acknowledges only committed data — or fails with
    :class:`~patron.client.errors.MessageRejected` (a 4xx, not retried) or
    :class:`~patron.client.errors.DeliveryFailed` (5xx, 429 and network errors
    are retried ``max_retries`` times with exponential backoff and jitter,
    honouring ``Retry-After``). Nobody has to await the future: a failure
    nobody awaits is logged on the ``patron.client`` logger and passed to
    ``on_error``.

    Messages go out in batches of up to ``batch_size`` (and the server's
    500 KB), at the latest ``flush_interval`` seconds after the first one was
    queued. :meth:`flush` sends everything queued and waits for the answers;
    :meth:`aclose` (or leaving ``async with``) flushes, then stops.
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
        if not write_key:
            raise InvalidCall("a write key is required")
        if not 1 <= batch_size <= 2_500:
            raise InvalidCall("batch_size must be between 1 and 2,500 (the server's limit)")
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.on_error = on_error
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        policy = RetryPolicy(max_retries, backoff_base, backoff_max)
        self._sender = Sender(self._http, host.rstrip("/") + "/v1/batch", write_key, policy)
        self._queue: deque[Pending] = deque()
        self._queued_bytes = 0
        self._in_flight: list[Pending] = []
        self._queued = asyncio.Event()  # the queue is not empty
        self._ready = asyncio.Event()  # a full batch is waiting, or a flush was asked for
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- customers and calls -------------------------------------------------

    def new_customer(self, **fields: Any) -> Customer:
        """A :class:`Customer` of this client (``user_id``/``userId``, ``anonymous_id``/
        ``anonymousId``, ``traits``)."""
        return Customer(self, **fields)

    def identify(self, **fields: Any) -> asyncio.Future[None]:
        """Who a customer is: ids, ``traits``, and the common fields."""
        return self._enqueue(build("identify", fields))

    def track(self, event: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """What a customer did: ``event`` (required), ``properties``, common fields."""
        if not isinstance(event, str) or not event.strip():
            raise InvalidCall("track needs an event name")
        return self._enqueue(build("track", {"event": event, **fields}))

    def page(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """A page view: ``name``, ``category``, ``properties``, common fields."""
        return self._enqueue(build("page", {"name": name, **fields}))

    def screen(self, name: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """A screen view in an app: ``name``, ``category``, ``properties``, common fields."""
        return self._enqueue(build("screen", {"name": name, **fields}))

    def group(self, group_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """The customer belongs to group ``group_id`` (``traits`` describe the group)."""
        group_id = group_id if group_id is not None else take(fields, "group_id")
        if group_id is None:
            raise InvalidCall("group needs a group_id (groupId)")
        return self._enqueue(build("group", {"groupId": group_id, **fields}))

    def alias(self, user_id: str | None = None, **fields: Any) -> asyncio.Future[None]:
        """``previous_id`` (``previousId``) and ``user_id`` are the same person."""
        previous_id = take(fields, "previous_id")
        if previous_id is None or (user_id is None and "userId" not in fields):
            raise InvalidCall("alias needs previous_id (previousId) and user_id (userId)")
        return self._enqueue(
            build("alias", {"user_id": user_id, "previousId": previous_id, **fields})
        )

    # -- flushing and closing ------------------------------------------------

    async def flush(self) -> None:
        """Send everything queued now and wait until the server has answered for it.

        Failures are not raised here: they belong to each call's own awaitable.
        """
        waiting = [pending.future for pending in (*self._in_flight, *self._queue)]
        if not waiting:
            return
        self._ready.set()
        await asyncio.gather(*waiting, return_exceptions=True)

    async def aclose(self) -> None:
        """Flush, then stop; later calls raise :class:`~patron.client.errors.ClientClosed`."""
        if self._closed:
            return
        self._closed = True
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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

    # -- the queue -----------------------------------------------------------

    def _enqueue(self, message: dict[str, Any]) -> asyncio.Future[None]:
        if self._closed:
            raise ClientClosed("the client is closed")
        size = len(encode(message))
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(size, MAX_MESSAGE_BYTES)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(functools.partial(self._report, message))
        self._queue.append(Pending(message, size, future))
        self._queued_bytes += size + 1
        self._queued.set()
        if len(self._queue) >= self.batch_size or self._queued_bytes >= _BATCH_BYTES:
            self._ready.set()  # a full batch goes now, not at the end of the interval
        if self._task is None:
            self._task = loop.create_task(self._send_forever(), name="patron-client-sender")
        return future

    async def _send_forever(self) -> None:
        while True:
            await self._queued.wait()
            if len(self._queue) < self.batch_size and not self._ready.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ready.wait(), self.flush_interval)
            self._in_flight = self._take_batch()
            if not self._queue:
                self._queued.clear()
                self._ready.clear()
            try:
                await self._sender.deliver(self._in_flight)
            except Exception as error:  # a bug must fail the batch, not hang its callers
                log.exception("delivering a batch failed unexpectedly")
                for pending in self._in_flight:
                    if not pending.future.done():
                        pending.future.set_exception(DeliveryFailed(1, repr(error)))
            finally:
                self._in_flight = []

    def _take_batch(self) -> list[Pending]:
        batch = [self._queue.popleft()]
        size = batch[0].size + 1
        while self._queue and len(batch) < self.batch_size:
            if size + self._queue[0].size + 1 > _BATCH_BYTES:
                break
            batch.append(self._queue.popleft())
            size += batch[-1].size + 1
        self._queued_bytes -= size
        return batch

    def _report(self, message: dict[str, Any], future: asyncio.Future[None]) -> None:
        # Retrieving the exception here keeps asyncio from complaining about
        # futures nobody awaited (fire and forget is a fine way to use this).
        if future.cancelled() or (error := future.exception()) is None:
            return
        log.warning("message %s was not delivered: %s", message.get("messageId"), error)
        if self.on_error is not None:
            self.on_error(error, message)
