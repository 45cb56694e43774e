"""Errors -> Voucherify's error body, in one place.

Voucherify answers every error with JSON ``{"code": <HTTP status>, "key":
"<kind>", "message": "…", "details": "…", "request_id": "v-…"}``, plus
``resource_type``/``resource_id`` when a resource is missing (the domain's
``NotFound.kind`` and ``.ref``). Patron adds ``errors`` (every problem found,
``{"field", "message"}``) for invalid input. Invalid input to a ``GET`` can
only be its query string: ``invalid_query_params``.
"""

from __future__ import annotations

from typing import Any

from patron.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PatronError,
    RateLimited,
    RetryLater,
    TooLarge,
    Unauthorized,
)
from patron.surfaces.http.errors import (
    Answer,
    ErrorFormat,
    Failure,
    MethodNotAllowed,
    NoRoute,
)

# Every class of error, and its status, Voucherify's key and its message.
TABLE: dict[type[BaseException], Answer] = {
    PatronError: Answer(400, "error", "Error"),
    Invalid: Answer(400, "invalid_payload", "Invalid payload"),
    Unauthorized: Answer(401, "unauthorized", "Unauthorized"),
    Forbidden: Answer(403, "forbidden", "Forbidden"),
    NotFound: Answer(404, "not_found", "Resource not found"),
    NoRoute: Answer(404, "not_found", "Resource not found"),
    MethodNotAllowed: Answer(405, "method_not_allowed", "Method not allowed"),
    Conflict: Answer(409, "duplicate_found", "Duplicate resource found"),
    TooLarge: Answer(413, "request_too_large", "Request entity too large"),
    RateLimited: Answer(429, "too_many_requests", "Too many requests"),
    RetryLater: Answer(503, "service_unavailable", "Service unavailable"),
    Exception: Answer(500, "internal_server_error", "Internal server error"),
}


def _body(failure: Failure) -> dict[str, Any]:
    error = failure.error
    key, message = failure.code, failure.answer.title
    if isinstance(error, Invalid) and failure.request.method == "GET":
        key, message = "invalid_query_params", "Invalid query params"
    body: dict[str, Any] = {
        "code": failure.status,
        "key": key,
        "message": message,
        "details": failure.details,
        "request_id": failure.request_id,
    }
    if isinstance(error, Invalid):
        body["errors"] = [{"field": p.field, "message": p.message} for p in failure.problems]
    if isinstance(error, NotFound) and error.ref is not None:
        body["resource_type"], body["resource_id"] = error.kind, str(error.ref)
    return body


ERRORS = ErrorFormat(TABLE, _body, request_id_prefix="v-")
