"""The tracking endpoints, at every path the real clients use.

Server libraries post ``/v1/batch`` (behind any path prefix of the host they
are given); analytics.js posts ``/v1/t``, ``/v1/i``… and ``/v1/b`` as
``text/plain``; Android posts batches to ``/v1/import``. Every success is
exactly ``200 {"success": true}``, sent after the commit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from patron.domain.messages import MessageType
from patron.domain.workspaces import KeyKind
from patron.services import Services
from patron.surfaces.body import parse_json_object, read_body
from patron.surfaces.tracking.errors import error_response
from patron.surfaces.tracking.wire import (
    MAX_MESSAGE_BYTES,
    MAX_REQUEST_BYTES,
    parse_batch,
    parse_single,
)

OK = Response(b'{"success":true}', 200, media_type="application/json")

SINGLE_PATHS = {
    MessageType.IDENTIFY: ("identify", "i"),
    MessageType.TRACK: ("track", "t"),
    MessageType.PAGE: ("page", "p"),
    MessageType.SCREEN: ("screen", "s"),
    MessageType.GROUP: ("group", "g"),
    MessageType.ALIAS: ("alias", "a"),
}
BATCH_PATHS = ("batch", "b", "import")


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


async def _handle(request: Request, type_: MessageType | None) -> Response:
    received_at = datetime.now(UTC)
    services: Services = request.app.state.services
    try:
        key = basic_auth_user(request)
        workspace_id = None
        if key is not None:  # refuse a bad key before reading the body
            workspace_id = await services.workspaces.authenticate(
                key=key, kind=KeyKind.TRACKING_WRITE_KEY
            )
        limit = MAX_MESSAGE_BYTES if type_ else MAX_REQUEST_BYTES
        document = parse_json_object(await read_body(request, limit=limit))
        if workspace_id is None:
            body_key = document.get("writeKey")
            workspace_id = await services.workspaces.authenticate(
                key=body_key if isinstance(body_key, str) else None,
                kind=KeyKind.TRACKING_WRITE_KEY,
            )
        if type_ is None:
            messages = parse_batch(document, received_at=received_at)
        else:
            messages = [parse_single(document, type_, received_at=received_at)]
        if messages:
            await services.tracking.ingest(workspace_id=workspace_id, messages=messages)
    except Exception as error:  # mapped in one place: domain errors to 4xx/5xx, the rest to 500
        return error_response(error)
    return OK


def _endpoint(type_: MessageType | None) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _handle(request, type_)

    return endpoint


def routes() -> list[Route]:
    """Every tracking path, with and without a path prefix in front of ``/v1``."""
    names: list[tuple[str, MessageType | None]] = [
        (name, type_) for type_, names in SINGLE_PATHS.items() for name in names
    ]
    names += [(name, None) for name in BATCH_PATHS]
    return [
        Route(path, _endpoint(type_), methods=["POST"])
        for name, type_ in names
        for path in (f"/v1/{name}", f"/{{prefix:path}}/v1/{name}")
    ]
