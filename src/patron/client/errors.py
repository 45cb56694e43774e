"""The client's exceptions, all in one tree.

::

    PatronClientError            anything the client raises on purpose
    ├── InvalidCall              a call the client refuses before sending (also a ValueError)
    │   └── MessageTooLarge      the encoded message is over the server's 32 KB limit
    ├── ClientClosed             the client was closed; it sends nothing more
    ├── MessageRejected          the server refused the message (a 4xx); not retried
    └── DeliveryFailed           5xx, 429 or network errors outlasted every retry

``InvalidCall``, ``MessageTooLarge`` and ``ClientClosed`` are raised by the
call itself. ``MessageRejected`` and ``DeliveryFailed`` are raised when the
awaitable the call returned is awaited.
"""

from __future__ import annotations


class PatronClientError(Exception):
    """Base of every error the client raises on purpose."""


class InvalidCall(PatronClientError, ValueError):
    """The call is missing something required or carries something unusable."""


class MessageTooLarge(InvalidCall):
    """The message, JSON-encoded, is over the server's per-message limit."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message is {size} bytes; the server takes at most {limit}")
        self.size = size
        self.limit = limit


class ClientClosed(PatronClientError):
    """The client has been closed."""


class MessageRejected(PatronClientError):
    """The server answered 4xx: the message is wrong and sending it again won't help.

    ``status``, ``code`` and ``message`` are the server's; ``field`` names the
    part of this message the server objected to, when it said.
    """

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        where = f" ({field})" if field else ""
        super().__init__(f"{status} {code}: {message}{where}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class DeliveryFailed(PatronClientError):
    """Every attempt failed with a transient error; ``cause`` is the last one."""

    def __init__(self, attempts: int, cause: str) -> None:
        super().__init__(f"gave up after {attempts} attempts: {cause}")
        self.attempts = attempts
        self.cause = cause
