"""The Config API surface: Infinity Config API v2 segments and segment groups.

Requests authenticate with the workspace's Config API key, sent as
``Authorization: Bearer <key>`` (or as the user of HTTP Basic auth), and may
only reach the workspace's own installation (``igrp``). Handlers just raise:
the app that serves this router answers every error in the Config API's
format (``errors.py``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from patron.domain.errors import Invalid, Problem, Unauthorized
from patron.domain.tenancy.service import KeyKind
from patron.services import Services
from patron.surfaces.http.body import parse_json_object, read_body
from patron.surfaces.infinity import wire

MAX_BODY = 256 * 1024
router = APIRouter(prefix="/config/v2/igrps/{igrp}", tags=["config"])


def _key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials.strip()).decode().partition(":")[0] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


async def _open(request: Request, igrp: str) -> tuple[Services, str, int]:
    """The services, the caller's workspace id and its igrp, or Unauthorized/Forbidden."""
    services: Services = request.app.state.services
    number = wire.path_id(igrp, "igrp")
    key = _key(request)
    if key is None:
        raise Unauthorized("send the Config API key as 'Authorization: Bearer <key>'")
    try:
        workspace_id = await services.workspaces.authenticate(key=key, kind=KeyKind.CONFIG_API_KEY)
    except Unauthorized:
        raise Unauthorized("invalid Config API key") from None
    await services.segments.installation(igrp=number, workspace_id=workspace_id)
    return services, workspace_id, number


async def _body(request: Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request, limit=MAX_BODY))


def _params(request: Request) -> dict[str, list[str]]:
    names = {name.removesuffix("[]") for name in request.query_params}
    return {
        name: request.query_params.getlist(name) + request.query_params.getlist(name + "[]")
        for name in names
    }


@router.get("/segments")
async def list_segments(request: Request, igrp: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    found = await services.segments.list(workspace_id=workspace_id)
    items = [wire.segment_json(segment) for segment in found]
    return JSONResponse(wire.page(items, _params(request), wire.SEGMENT_FIELDS))


@router.post("/segments")
async def create_segment(request: Request, igrp: str) -> Response:
    services, workspace_id, number = await _open(request, igrp)
    segment_id, changes = wire.segment_changes(await _body(request), creating=True)
    segment = await services.segments.create(
        workspace_id=workspace_id, segment_id=segment_id, changes=changes
    )
    location = f"/config/v2/igrps/{number}/segments/{segment.id}"
    return JSONResponse(wire.segment_json(segment), 201, {"Location": location})


@router.put("/segments/order")
async def order_segments(request: Request, igrp: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    sorted_ids = wire.sorted_segments(await _body(request))
    await services.segments.order(workspace_id=workspace_id, sorted_ids=sorted_ids)
    return Response(status_code=204)


@router.get("/segments/{segment}")
async def get_segment(request: Request, igrp: str, segment: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    segment_id = wire.path_id(segment, "segment")
    found = await services.segments.get(workspace_id=workspace_id, segment_id=segment_id)
    return JSONResponse(wire.segment_json(found))


@router.post("/segments/{segment}")
async def update_segment(request: Request, igrp: str, segment: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    segment_id = wire.path_id(segment, "segment")
    _, changes = wire.segment_changes(await _body(request), creating=False)
    await services.segments.update(
        workspace_id=workspace_id, segment_id=segment_id, changes=changes
    )
    return Response(status_code=204)


@router.delete("/segments/{segment}")
async def delete_segment(request: Request, igrp: str, segment: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    segment_id = wire.path_id(segment, "segment")
    await services.segments.delete(workspace_id=workspace_id, segment_id=segment_id)
    return Response(status_code=204)


@router.get("/segmentGroups")
async def list_groups(request: Request, igrp: str) -> Response:
    services, workspace_id, number = await _open(request, igrp)
    found = await services.segment_groups.list(workspace_id=workspace_id)
    items = [wire.group_json(group, number) for group in found]
    return JSONResponse(wire.page(items, _params(request), wire.GROUP_FIELDS))


@router.post("/segmentGroups")
async def create_group(request: Request, igrp: str) -> Response:
    services, workspace_id, number = await _open(request, igrp)
    name = _group_name(await _body(request))
    group = await services.segment_groups.create(workspace_id=workspace_id, name=name)
    location = f"/config/v2/igrps/{number}/segmentGroups/{group.id}"
    return JSONResponse(wire.group_json(group, number), 201, {"Location": location})


@router.get("/segmentGroups/{group}")
async def get_group(request: Request, igrp: str, group: str) -> Response:
    services, workspace_id, number = await _open(request, igrp)
    group_id = wire.path_id(group, "segmentGroupId")
    found = await services.segment_groups.get(workspace_id=workspace_id, group_id=group_id)
    return JSONResponse(wire.group_json(found, number))


@router.post("/segmentGroups/{group}")
async def update_group(request: Request, igrp: str, group: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    group_id = wire.path_id(group, "segmentGroupId")
    name = _group_name(await _body(request))
    await services.segment_groups.update(workspace_id=workspace_id, group_id=group_id, name=name)
    return Response(status_code=204)


@router.delete("/segmentGroups/{group}")
async def delete_group(request: Request, igrp: str, group: str) -> Response:
    services, workspace_id, _ = await _open(request, igrp)
    group_id = wire.path_id(group, "segmentGroupId")
    await services.segment_groups.delete(workspace_id=workspace_id, group_id=group_id)
    return Response(status_code=204)


def _group_name(body: dict[str, Any]) -> str | None:
    # As for segments, a property the API does not take is refused, not ignored
    # (a client sending segmentGroupId must learn that ids are assigned).
    problems = [Problem("unknown property", key) for key in body if key != "segmentGroupName"]
    name = wire.text(body.get("segmentGroupName"), "segmentGroupName", problems)
    if problems:
        raise Invalid.of(problems)
    return name
