"""``GET /v1/audiences``: the workspace's audiences (every static segment gets its id here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from patron.domain.errors import Invalid, Problem
from patron.surfaces.http.numbers import whole_number
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.codes_wire import audience_json

router = APIRouter(prefix="/v1", tags=["talon.one management"])


def query_number(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter, or Invalid naming it."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    number = whole_number(text)
    if number is None:
        raise Invalid.of([Problem("a whole number", name)])
    return number


@router.get("/audiences")
async def get_audiences(request: Request) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    limit = query_number(request, "pageSize", 1000)
    skip = query_number(request, "skip", 0)
    sort = request.query_params.get("sort") or "id"
    requests.flag(request, "withTotalResultSize")  # both are always answered
    found, total = await services.audiences.page(workspace_id, skip=skip, limit=limit, sort=sort)
    account = await services.workspaces.installation_number(workspace_id)
    return {
        "hasMore": skip + len(found) < total,
        "totalResultSize": total,
        "data": [audience_json(audience, account) for audience in found],
    }
