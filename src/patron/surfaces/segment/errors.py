"""Errors -> Segment-style error responses, in one place.

Every error body is JSON with ``code`` and ``message`` (the RudderStack SDK
retries a 4xx whose body lacks ``code``), plus ``success: false`` as Segment
answers. Invalid input also lists every problem under ``errors``.
"""

from __future__ import annotations

from typing import Any

from patron.domain.errors import TooLarge
from patron.surfaces.http.errors import STANDARD, Answer, ErrorFormat, Failure

# Browsers post events cross-origin; Segment's API allows any origin.
CORS = {"Access-Control-Allow-Origin": "*"}

# Patron's own codes, with HTTP's statuses but one: Segment answers 400 for
# bodies over its limits, so Patron does too.
TABLE: dict[type[BaseException], Answer] = {**STANDARD, TooLarge: Answer(400)}


def _body(failure: Failure) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "code": failure.code, "message": failure.details}
    if failure.problems:
        body["errors"] = [
            {"index": p.index, "field": p.field, "message": p.message} for p in failure.problems
        ]
    return body


ERRORS = ErrorFormat(TABLE, _body, headers=CORS)
