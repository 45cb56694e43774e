"""The client's exceptions, all in one tree.

::

    PatronClientError          anything the client raises on purpose
    ├── InvalidCall            a call refused before anything is sent (also a ValueError)
    │   └── MessageTooLarge    the JSON-encoded message is over the server's 32 KB limit
    ├── ClientClosed           the client is closed (or closing) and sends nothing more
    ├── RequestRejected        the server refused the message with a 4xx; never retried
    └── DeliveryFailed         5xx, 429, network errors or timeouts outlasted every retry
                               (or an unexpected error below the client failed the batch)

When each is raised:

* ``InvalidCall``, ``MessageTooLarge`` and ``ClientClosed`` are raised by the
  call itself (``customer.track(...)``), at once, and no request is made.
* ``RequestRejected`` and ``DeliveryFailed`` are raised by *awaiting* the
  awaitable a call returned. ``RequestRejected`` carries the server's
  ``status``, ``code`` and ``message``, and in ``problems`` what the server
  said about this very message (when its ``errors`` list named the message's
  index). ``DeliveryFailed`` carries ``attempts``, the last HTTP ``status``
  (None after a network error), the last ``reason``, and the last cause as
  ``__cause__`` (an ``httpx`` exception, ``httpx.HTTPStatusError`` for a 5xx
  or 429).
* ``ClientClosed`` also settles the awaitables of messages that were still
  queued when the client's background sender was stopped without a flush
  (the event loop shutting down, or ``aclose()`` itself being cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass


class PatronClientError(Exception):
    """Base of every error the client raises on purpose."""


class InvalidCall(PatronClientError, ValueError):
    """The call is missing something required or carries something unusable."""


class MessageTooLarge(InvalidCall):
    """The message, JSON-encoded, is over the server's per-message limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message is {size} bytes JSON-encoded; the server takes {limit} at most")
        self.size = size
        self.limit = limit


class ClientClosed(PatronClientError):
    """The client has been closed; it accepts and sends nothing more."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the server found wrong with a message: where (``field``) and what."""

    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class RequestRejected(PatronClientError):
    """The server answered 4xx (other than 429): sending it again would not help.

    ``status``, ``code`` and ``message`` are the server's answer to the whole
    request. ``problems`` lists what the server said about this message in
    particular — the entries of its ``errors`` list that name the message's
    index or no index at all — and is empty when it said nothing more.
    """

    def __init__(
        self, status: int, code: str, message: str, problems: tuple[Problem, ...] = ()
    ) -> None:
        detail = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{status} {code}: {detail or message}")
        self.status = status
        self.code = code
        self.message = message
        self.problems = problems


class DeliveryFailed(PatronClientError):
    """Every attempt failed transiently; the message may or may not have been stored.

    ``attempts`` is how many requests were made, ``status`` the last HTTP
    status (None when the last attempt got no answer), ``reason`` the last
    failure in words; ``__cause__`` is the last failure itself.
    """

    def __init__(self, attempts: int, reason: str, status: int | None = None) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {reason}")
        self.attempts = attempts
        self.reason = reason
        self.status = status
