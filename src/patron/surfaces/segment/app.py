"""The tracking surface as a lean ASGI app, at every path the real clients use.

Server libraries post ``/v1/batch`` (behind any path prefix of the host they
are given); analytics.js posts ``/v1/t``, ``/v1/i``… and ``/v1/b`` as
``text/plain``; Android posts batches to ``/v1/import``. Every success is
exactly ``200 {"success": true}``, sent after the commit.

It runs in front of the FastAPI app rather than inside it: it is the hot
path, maps its own errors, and needs none of the framework's middleware.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from patron.domain.tenancy.service import KeyKind
from patron.domain.tracking.messages import Message, MessageType
from patron.services import Services
from patron.surfaces.http.body import parse_json_object, read_body
from patron.surfaces.http.errors import MethodNotAllowed
from patron.surfaces.segment.errors import CORS, ERRORS
from patron.surfaces.segment.wire import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    parse_batch,
    parse_single,
)

OK = Response(b'{"success":true}', 200, CORS, media_type="application/json")
ALLOWED = "POST, OPTIONS"
PREFLIGHT = Response(
    status_code=204,
    headers={
        **CORS,
        "Access-Control-Allow-Methods": ALLOWED,
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Content-Encoding",
        "Access-Control-Max-Age": "86400",
    },
)

# The last path segment after "/v1/" -> the call it carries (None: a batch).
ENDPOINTS: dict[str, MessageType | None] = {
    "identify": MessageType.IDENTIFY,
    "i": MessageType.IDENTIFY,
    "track": MessageType.TRACK,
    "t": MessageType.TRACK,
    "page": MessageType.PAGE,
    "p": MessageType.PAGE,
    "screen": MessageType.SCREEN,
    "s": MessageType.SCREEN,
    "group": MessageType.GROUP,
    "g": MessageType.GROUP,
    "alias": MessageType.ALIAS,
    "a": MessageType.ALIAS,
    "batch": None,
    "b": None,
    "import": None,
}


def endpoint_name(path: str) -> str | None:
    """``"batch"`` for ``/v1/batch`` or ``/any/prefix/v1/batch/``; None if not tracking."""
    _, separator, name = path.rstrip("/").rpartition("/v1/")
    return name if separator and name in ENDPOINTS else None


def basic_auth_user(request: Request) -> str | None:
    """The write key from ``Authorization: Basic base64(key:)``, if present."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or password or None


class TrackingApp:
    """Answers the tracking paths; ``services`` gives the running app's services."""

    def __init__(self, services: Callable[[], Services]) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = endpoint_name(scope["path"])
        assert name is not None, "route only tracking paths here"
        method = scope["method"]
        request = Request(scope, receive)
        if method == "POST":
            response = await self.handle(request, ENDPOINTS[name])
        elif method == "OPTIONS":
            response = PREFLIGHT
        else:
            response = ERRORS.respond(request, MethodNotAllowed("use POST", ALLOWED))
        await response(scope, receive, send)

    async def handle(self, request: Request, type_: MessageType | None) -> Response:
        try:
            await self._ingest(request, type_)
        except Exception as error:  # mapped in one place: domain errors to 4xx/5xx, else 500
            return ERRORS.respond(request, error)
        return OK

    async def _ingest(self, request: Request, type_: MessageType | None) -> None:
        received_at = datetime.now(UTC)
        services = self.services()
        key = basic_auth_user(request)
        workspace_id = None
        if key is not None:  # refuse a bad key before reading the body
            workspace_id = await services.workspaces.authenticate(
                key=key, kind=KeyKind.TRACKING_WRITE_KEY
            )
        limit = MAX_MESSAGE_BYTES if type_ else MAX_BATCH_BYTES
        body = await read_body(request, limit=limit)
        # A batch looks for NUL characters message by message, to name the message.
        document = parse_json_object(body, refuse_nul=type_ is not None)
        del body  # a batch's may be 4.5 MB: free it while the messages wait for the commit
        if workspace_id is None:
            body_key = document.get("writeKey")
            workspace_id = await services.workspaces.authenticate(
                key=body_key if isinstance(body_key, str) else None,
                kind=KeyKind.TRACKING_WRITE_KEY,
            )
        messages: list[Message]
        if type_ is None:
            messages = parse_batch(document, received_at=received_at)
        else:
            messages = [parse_single(document, type_, received_at=received_at)]
        if messages:
            await services.tracking.ingest(workspace_id=workspace_id, messages=messages)
