"""Domain errors -> Config API error responses, in one place.

Every error is JSON ``{"error": {"code": <HTTP status>, "type": "<kind>",
"message": "…", "errors": [{"field": "…", "message": "…"}]}}`` (``errors``
only for invalid input; ``field`` names the offending property or criterion,
e.g. ``criteria[1].op``).
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse

from patron.domain.errors import Invalid, PatronError, RetryLater, Unauthorized
from patron.surfaces.http.status import HTTP_STATUS

log = logging.getLogger(__name__)


def error_response(error: PatronError) -> JSONResponse:
    status = HTTP_STATUS.get(type(error), 400)
    body: dict[str, object] = {"code": status, "type": error.code, "message": error.message}
    headers = {}
    if isinstance(error, Invalid):
        body["errors"] = [{"field": p.field, "message": p.message} for p in error.problems]
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="patron-config"'
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse({"error": body}, status, headers)


async def handle(_request: Request, error: Exception) -> JSONResponse:
    """FastAPI exception handler for domain errors raised by Config API handlers."""
    assert isinstance(error, PatronError)
    return error_response(error)
