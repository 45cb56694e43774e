"""Errors -> Talon.One's error body, in one place (both of its APIs).

Talon answers ``{"message": "…", "errors": [{"title", "details", "source":
{"pointer"}}], "StatusCode": <status>}``: ``message`` and ``StatusCode`` are
always there (the newest SDK parses them), and every ``errors`` item carries
``title`` and ``source`` (older SDKs require both). A problem with the body
points at it with a JSON pointer (``/customerSession/cartItems/0/quantity``),
one with the query names the ``parameter``.
"""

from __future__ import annotations

from typing import Any

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
from patron.surfaces.http.errors import Answer, ErrorFormat, Failure, MethodNotAllowed, NoRoute

TABLE: dict[type[BaseException], Answer] = {
    PatronError: Answer(400, title="Bad request"),
    Invalid: Answer(400, title="Bad request: invalid payload"),
    Unauthorized: Answer(401, title="Unauthorized"),
    Forbidden: Answer(403, title="Forbidden"),
    NotFound: Answer(404, title="Not found"),
    NoRoute: Answer(404, title="Not found"),
    MethodNotAllowed: Answer(405, title="Method not allowed"),
    Conflict: Answer(409, title="Conflict"),
    TooLarge: Answer(413, title="Request entity too large"),
    RateLimited: Answer(429, title="Too many requests"),
    RetryLater: Answer(503, title="Service unavailable"),
    Exception: Answer(500, title="Internal server error"),
}


def pointer(field: str | None) -> str:
    """A problem's field (``customerSession.cartItems.0.quantity``) as a JSON pointer;
    a field that is one already (a ruleset's ``/rules/0/condition/1``) stays as it is."""
    if not field:
        return ""
    if field.startswith("/"):
        return field
    parts = field.replace("[", ".").replace("]", "").split(".")
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts if p)


def _source(problem: Problem, in_query: bool) -> dict[str, str]:
    if in_query and problem.field:
        return {"parameter": problem.field}
    return {"pointer": pointer(problem.field)}


def _body(failure: Failure) -> dict[str, Any]:
    error = failure.error
    in_query = failure.request.method in ("GET", "DELETE") and isinstance(error, Invalid)
    query = failure.request.query_params
    items = [
        {
            "title": problem.message,
            "details": problem.describe(),
            # (a body's problem has a pointer; a flag of a PUT, ``dry``, names its parameter)
            "source": _source(problem, in_query or (problem.field or "") in query),
        }
        for problem in failure.problems
    ]
    if not items and isinstance(error, NotFound):
        items = [
            {
                "title": failure.details,
                "details": failure.details,
                "source": {"resource": error.kind},
            }
        ]
    message = failure.details if isinstance(error, PatronError) else failure.answer.title
    if isinstance(error, Invalid):
        message = f"{failure.answer.title}: {failure.details}"
    return {
        "message": message,
        "errors": items,
        "StatusCode": failure.status,
        "requestId": failure.request_id,
    }


ERRORS = ErrorFormat(TABLE, _body, request_id_prefix="t-")
