"""Coupon reservations: ``/v1/coupon_reservations/{couponValue}`` and the holders' profiles.

Codes may hold a ``/``: clients send it as ``%2F``, which the server decodes
before routing. So the routes take the rest of the path, and the code is read
from the raw path (``scope["raw_path"]``) and unquoted here, once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from patron.domain.errors import NotFound
from patron.domain.promotions.reservations import check_integration_ids
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.coupon_wire import coupon_json, profile_json
from patron.surfaces.talon_one.idempotent import once

router = APIRouter(prefix="/v1/coupon_reservations")

PREFIX = "/v1/coupon_reservations/"
PROFILES = "customerprofiles/"


def coupon_code(request: Request, *, after: str = "") -> str:
    """The code in the raw path, after ``PREFIX`` (and ``after``), percent-decoded."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    _, _, rest = path.partition(PREFIX)
    try:
        code = unquote(rest.removeprefix(after), encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        code = ""
    if not code:
        raise NotFound("coupon", code)
    return code


@router.get("/customerprofiles/{rest:path}")
async def get_reserved_customers(request: Request, rest: str) -> dict[str, Any]:
    services, caller = await requests.integration(request)
    code = coupon_code(request, after=PROFILES)
    holders = await services.reservations.holders(caller, code)
    account = await requests.account_id(services, caller.workspace_id)
    data = [profile_json(holder, caller.workspace_id, account) for holder in holders]
    return {"totalResultSize": len(data), "data": data}


@router.post("/{rest:path}", status_code=201)
async def create_coupon_reservation(request: Request, rest: str) -> Response:
    services, caller = await requests.integration(request)
    code = coupon_code(request)
    body = await requests.json_object(request)
    ids = check_integration_ids(body.get("integrationIDs"))

    async def write() -> Response:
        coupon = await services.reservations.reserve(caller, code, ids)
        return JSONResponse(coupon_json(coupon), status_code=201)

    return await once(request, services, caller, body, write, profile_ids=ids)


@router.delete("/{rest:path}", status_code=204)
async def delete_coupon_reservation(request: Request, rest: str) -> Response:
    services, caller = await requests.integration(request)
    code = coupon_code(request)
    body = await requests.json_object(request)
    ids = check_integration_ids(body.get("integrationIDs"))

    async def write() -> Response:
        await services.reservations.release(caller, code, ids)
        return Response(status_code=204)

    return await once(request, services, caller, body, write, profile_ids=ids)
