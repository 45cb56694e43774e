"""Domain errors -> Voucherify's error body, in one place.

Voucherify answers every error with JSON ``{"code": <HTTP status>, "key":
"<kind>", "message": "…", "details": "…", "request_id": "v-…"}``, plus
``resource_id``/``resource_type`` when a resource is missing. Patron adds
``errors`` (every problem found, ``{"field", "message"}``) for invalid input.
"""

from __future__ import annotations

import secrets

from fastapi.responses import JSONResponse

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
    Unavailable,
)
from patron.surfaces.http.status import HTTP_STATUS

# Voucherify's key and message for each kind of error.
KEYS: dict[type[PatronError], tuple[str, str]] = {
    Invalid: ("invalid_payload", "Invalid payload"),
    TooLarge: ("request_too_large", "Request entity too large"),
    Unauthorized: ("unauthorized", "Unauthorized"),
    Forbidden: ("forbidden", "Forbidden"),
    NotFound: ("not_found", "Resource not found"),
    Conflict: ("duplicate_found", "Duplicate resource found"),
    RateLimited: ("too_many_requests", "Too many requests"),
    Unavailable: ("service_unavailable", "Service unavailable"),
}


def error_response(
    error: PatronError,
    *,
    query: bool = False,
    resource: tuple[str, str] | None = None,
) -> JSONResponse:
    """``query``: the input at fault was the query string; ``resource``: (type, id) not found."""
    status = HTTP_STATUS.get(type(error), 400)
    key, message = KEYS.get(type(error), ("error", "Error"))
    if isinstance(error, Invalid) and query:
        key, message = "invalid_query_params", "Invalid query params"
    body: dict[str, object] = {
        "code": status,
        "key": key,
        "message": message,
        "details": error.message,
        "request_id": "v-" + secrets.token_hex(12),
    }
    if isinstance(error, Invalid):
        body["errors"] = [{"field": p.field, "message": p.message} for p in error.problems]
    if isinstance(error, NotFound) and resource is not None:
        body["resource_type"], body["resource_id"] = resource
    headers = {}
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status, headers)
