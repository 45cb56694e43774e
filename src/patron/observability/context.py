"""The request being handled, as a context variable: any code it runs can name it.

The dispatcher opens a :class:`RequestContext` for every HTTP request (see
:mod:`patron.observability.requests`); log lines written meanwhile carry its
id, and the surface that answers an error uses the same id in its answer.
Work handed to the group committer's writer thread runs outside any request
(one transaction serves many), so it carries none.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar


class RequestContext:
    """One request being handled: its id (made on first use), why it was refused."""

    __slots__ = ("_id", "prefix", "refusal")

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._id: str | None = None
        # Why the request was refused, once a surface has answered it with an
        # error (a bounded name such as "unauthorized"); None while it has not.
        self.refusal: str | None = None

    @property
    def request_id(self) -> str:
        # Made when a line is logged or an error answered: most requests need none.
        if self._id is None:
            self._id = new_request_id(self.prefix)
        return self._id


CURRENT: ContextVar[RequestContext | None] = ContextVar("patron_request", default=None)


def new_request_id(prefix: str = "") -> str:
    return prefix + secrets.token_hex(12)


def current_request_id() -> str | None:
    """The id of the request being handled here, if any."""
    context = CURRENT.get()
    return context.request_id if context is not None else None


def note_refusal(reason: str) -> None:
    """Record why the current request is answered with an error (for the metrics)."""
    context = CURRENT.get()
    if context is not None:
        context.refusal = reason
