"""Errors -> Config API error responses, in one place.

Every error is JSON ``{"error": {"code": <HTTP status>, "type": "<kind>",
"message": "…", "errors": [{"field": "…", "message": "…"}]}}`` (``errors``
only for invalid input; ``field`` names the offending property or criterion,
e.g. ``criteria[1].op``). A 401 asks for the key with ``WWW-Authenticate``.
"""

from __future__ import annotations

from typing import Any

from patron.domain.errors import Unauthorized
from patron.surfaces.http.errors import STANDARD, Answer, ErrorFormat, Failure

# Patron's own codes as ``type``, with HTTP's statuses.
TABLE: dict[type[BaseException], Answer] = {
    **STANDARD,
    Unauthorized: Answer(401, headers={"WWW-Authenticate": 'Bearer realm="patron-config"'}),
}


def _body(failure: Failure) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": failure.status,
        "type": failure.code,
        "message": failure.details,
    }
    if failure.problems:
        body["errors"] = [{"field": p.field, "message": p.message} for p in failure.problems]
    return {"error": body}


ERRORS = ErrorFormat(TABLE, _body)
