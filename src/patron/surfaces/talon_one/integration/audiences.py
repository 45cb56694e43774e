"""Audiences through the Integration API: ``/v2/audiences…`` and ``/v2/customer_audiences``.

An audience is a static customer segment (see ``domain/promotions/audiences.py``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.codes_wire import audience_json
from patron.surfaces.talon_one.idempotent import once, strings_at

router = APIRouter(tags=["talon.one integration"])


@router.post("/v2/audiences")
async def create_audience(request: Request) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)
    account = await requests.account_id(services, caller.workspace_id)

    async def write() -> Response:
        audience = await services.audiences.create(caller.workspace_id, body)
        return JSONResponse(audience_json(audience, account), status_code=201)

    return await once(request, services, caller, body, write)


@router.put("/v2/audiences/{audience_id}")
async def update_audience(request: Request, audience_id: str) -> Response:
    services, caller = await requests.integration(request)
    number = requests.path_id(audience_id, "audience")
    body = await requests.json_object(request)
    account = await requests.account_id(services, caller.workspace_id)

    async def write() -> Response:
        audience = await services.audiences.update(caller.workspace_id, number, body)
        return JSONResponse(audience_json(audience, account))

    return await once(request, services, caller, body, write)


@router.delete("/v2/audiences/{audience_id}")
async def delete_audience(request: Request, audience_id: str) -> Response:
    services, caller = await requests.integration(request)
    number = requests.path_id(audience_id, "audience")

    async def write() -> Response:
        await services.audiences.delete(caller.workspace_id, number)
        return Response(status_code=204)

    return await once(request, services, caller, None, write)


@router.delete("/v2/audiences/{audience_id}/memberships")
async def delete_audience_memberships(request: Request, audience_id: str) -> Response:
    services, caller = await requests.integration(request)
    number = requests.path_id(audience_id, "audience")

    async def write() -> Response:
        await services.audiences.clear(caller.workspace_id, number)
        return Response(status_code=204)

    return await once(request, services, caller, None, write)


@router.post("/v2/customer_audiences")
async def update_customer_profile_audiences(request: Request) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)

    async def write() -> Response:
        await services.audiences.change_memberships(caller.workspace_id, body)
        return Response(status_code=204)

    profiles = strings_at(body.get("data"), "profileIntegrationId")
    return await once(request, services, caller, body, write, profile_ids=profiles)
