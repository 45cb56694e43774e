"""Domain errors -> Segment-style error responses, in one place.

Every error body is JSON with ``code`` and ``message`` (the RudderStack SDK
retries a 4xx whose body lacks ``code``), plus ``success: false`` as Segment
answers. Invalid input also lists every problem under ``errors``.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from patron.domain.errors import Invalid, PatronError, RetryLater, TooLarge
from patron.surfaces.http.status import HTTP_STATUS

log = logging.getLogger(__name__)

# Browsers post events cross-origin; Segment's API allows any origin.
CORS = {"Access-Control-Allow-Origin": "*"}

# Segment answers 400 for bodies over its limits, so Patron does too.
STATUS = {**HTTP_STATUS, TooLarge: 400}


def error_response(error: BaseException) -> Response:
    """The response for any exception a tracking request ends with."""
    if isinstance(error, ClientDisconnect):  # nobody is listening; nothing was stored
        return Response(status_code=400)
    if not isinstance(error, PatronError):
        log.error("tracking request failed", exc_info=error)
        return _json(500, {"success": False, "code": "internal_error", "message": "internal error"})
    body: dict[str, object] = {"success": False, "code": error.code, "message": error.message}
    headers = {}
    if isinstance(error, Invalid):
        body["errors"] = [
            {"index": p.index, "field": p.field, "message": p.message} for p in error.problems
        ]
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    return _json(STATUS.get(type(error), 400), body, headers)


def method_not_allowed() -> Response:
    body = {"success": False, "code": "method_not_allowed", "message": "use POST"}
    return _json(405, body, {"Allow": "POST, OPTIONS"})


def _json(status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status, {**CORS, **(headers or {})}, media_type="application/json"
    )
