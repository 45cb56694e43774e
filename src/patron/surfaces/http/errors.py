"""What every surface's error mapping shares; each surface says only its table and body.

A surface maps error *classes* to an :class:`Answer` (status, and the vendor's
name and title for the error) in one table, ``ERRORS`` in its ``errors.py``.
An error takes the answer of the nearest class in its MRO that the table
names, so a subclass of a domain error is answered like its base, and the
table's ``Exception`` entry answers everything unexpected.

An unexpected exception (not a :class:`PatronError`) is logged once, at ERROR,
on the ``patron`` logger, with a request id that the answer carries too
(``X-Request-Id``, and the body where the vendor's format has a place for
it). The client never sees the exception's text or traceback. The request id
is the one the dispatcher gave the request (its log lines carry it too), and
the reason for the refusal is noted for the metrics (:data:`REFUSALS`).

FastAPI apps get all of this with :func:`answer_errors`: handlers just raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from patron.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PatronError,
    Problem,
    RateLimited,
    RetryLater,
    TooLarge,
    Unauthorized,
)
from patron.observability.context import current_request_id, new_request_id, note_refusal

log = logging.getLogger("patron")
T = TypeVar("T")


class NoRoute(PatronError):
    """No endpoint at this path: a surface's 404 for an unknown route (not a resource)."""

    code = "not_found"


class MethodNotAllowed(PatronError):
    """The path exists, but not for this method; ``allowed`` is the ``Allow`` header."""

    code = "method_not_allowed"

    def __init__(self, message: str, allowed: str) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True)
class Answer:
    """How a surface answers one class of error."""

    status: int
    code: str | None = None  # the vendor's name for the error; None: the error's own ``code``
    title: str | None = None  # the vendor's fixed message for it, where it has one
    headers: Mapping[str, str] = field(default_factory=dict)


# Patron's own codes with HTTP's statuses: the Segment and Infinity surfaces
# answer with these (and Segment changes one), and so do paths no surface owns.
STANDARD: dict[type[BaseException], Answer] = {
    PatronError: Answer(400),
    Invalid: Answer(400),
    Unauthorized: Answer(401),
    Forbidden: Answer(403),
    NotFound: Answer(404),
    NoRoute: Answer(404),
    MethodNotAllowed: Answer(405),
    Conflict: Answer(409),
    TooLarge: Answer(413),
    RateLimited: Answer(429),
    RetryLater: Answer(503),  # and Unavailable
    Exception: Answer(500, "internal_error", "Internal error"),
}


# Why a request was refused, by class of error: the ``reason`` label of the
# refusals metric (a short, bounded list, whatever the surface's vendor says).
REFUSALS: dict[type[BaseException], str] = {
    PatronError: "bad_request",
    Invalid: "invalid",
    Unauthorized: "unauthorized",
    Forbidden: "forbidden",
    NotFound: "not_found",
    NoRoute: "no_route",
    MethodNotAllowed: "method_not_allowed",
    Conflict: "conflict",
    TooLarge: "too_large",
    RateLimited: "rate_limited",
    RetryLater: "unavailable",
    ClientDisconnect: "client_disconnected",
    Exception: "internal_error",
}


def by_class(table: Mapping[type[BaseException], T], error: BaseException) -> T:
    """The table's entry for the error's class, or for its nearest base class."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    raise LookupError(f"no entry for {type(error).__name__}: a table must name Exception")


@dataclass(frozen=True)
class Failure:
    """One error as a surface answers it: its table's answer and the request id."""

    error: BaseException
    request: Request
    answer: Answer
    request_id: str

    @property
    def status(self) -> int:
        return self.answer.status

    @property
    def code(self) -> str:
        if self.answer.code is not None:
            return self.answer.code
        return self.error.code if isinstance(self.error, PatronError) else "internal_error"

    @property
    def details(self) -> str:
        """What the client may read: a domain error's message, never an unexpected one's."""
        if isinstance(self.error, PatronError):
            return self.error.message
        return f"unexpected error; the server's log has it under request id {self.request_id}"

    @property
    def problems(self) -> list[Problem]:
        return self.error.problems if isinstance(self.error, Invalid) else []


@dataclass(frozen=True)
class ErrorFormat:
    """A surface's error answers: its table, its body, the prefix of its request ids."""

    table: Mapping[type[BaseException], Answer]
    body: Callable[[Failure], dict[str, Any]]
    request_id_prefix: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # on every error answer

    def respond(self, request: Request, error: BaseException) -> Response:
        """The answer to a request that ended with ``error``."""
        note_refusal(by_class(REFUSALS, error))
        if isinstance(error, ClientDisconnect):  # nobody is listening; nothing was stored
            return Response(status_code=400)
        request_id = current_request_id() or new_request_id(self.request_id_prefix)
        failure = Failure(error, request, by_class(self.table, error), request_id)
        if not isinstance(error, PatronError):
            log.error(
                "unexpected error answering %s %s (request id %s)",
                request.method,
                request.url.path,
                failure.request_id,
                exc_info=error,
            )
        headers = {**self.headers, **failure.answer.headers, "X-Request-Id": failure.request_id}
        if isinstance(error, RetryLater):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, MethodNotAllowed):
            headers["Allow"] = error.allowed
        return Response(
            orjson.dumps(self.body(failure)),
            failure.status,
            headers,
            media_type="application/json",
        )


def answer_errors(app: FastAPI, errors: ErrorFormat) -> None:
    """Make ``app`` answer every error in ``errors``' format: what its handlers
    raise, unknown routes (404), wrong methods (405) and unexpected exceptions (500)."""

    async def handle(request: Request, error: Exception) -> Response:
        return errors.respond(request, _as_patron_error(request, error))

    for raised in (PatronError, HTTPException, RequestValidationError):
        app.add_exception_handler(raised, handle)
    app.add_middleware(AnswerUnexpected, errors=errors)


def _as_patron_error(request: Request, error: Exception) -> Exception:
    """The framework's routing and validation errors as Patron's."""
    where = f"{request.method} {request.url.path}"
    if isinstance(error, HTTPException) and error.status_code == 404:
        return NoRoute(f"no route {where}")
    if isinstance(error, HTTPException) and error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return MethodNotAllowed(f"{where} is not allowed; allowed: {allowed}", allowed)
    if isinstance(error, RequestValidationError):
        return Invalid.of(
            [
                Problem(str(problem.get("msg", "is invalid")), ".".join(map(str, problem["loc"])))
                for problem in error.errors()
            ]
        )
    return error  # anything else is unexpected: a 500


class AnswerUnexpected:
    """ASGI middleware: an exception no handler took becomes the surface's 500.

    Starlette's outermost middleware would answer it too, but then re-raise it
    to the server, which logs it again and closes the (keep-alive) connection;
    here it is answered like any error and the connection stays usable.
    """

    def __init__(self, app: ASGIApp, errors: ErrorFormat) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:  # half an answer is out: only closing the connection can tell
                raise
            await self.errors.respond(Request(scope, receive), error)(scope, receive, send)


def _plain_body(failure: Failure) -> dict[str, Any]:
    return {"code": failure.code, "message": failure.details, "request_id": failure.request_id}


# Paths no surface owns (``/health``, unknown paths): Patron's own plain JSON.
PLAIN = ErrorFormat(STANDARD, _plain_body)
