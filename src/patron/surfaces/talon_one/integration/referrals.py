"""Referral codes through the Integration API: ``/v1/referrals`` and
``/v1/referrals_for_multiple_advocates``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.codes_wire import referral_json
from patron.surfaces.talon_one.idempotent import once

router = APIRouter(tags=["talon.one integration"])


@router.post("/v1/referrals")
async def create_referral(request: Request) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)

    async def write() -> Response:
        made = await services.referrals.create(caller.workspace_id, caller.application_id, body)
        return JSONResponse(referral_json(made), status_code=201)

    profiles = [body.get("advocateProfileIntegrationId"), body.get("friendProfileIntegrationId")]
    return await once(request, services, caller, body, write, profile_ids=profiles)


@router.post("/v1/referrals_for_multiple_advocates")
async def create_referrals_for_multiple_advocates(request: Request) -> Response:
    """One code per advocate, all or none. ``silent=yes`` answers 204 with no body; absent
    (Talon's default is yes, which SDKs 4 to 9 cannot read) or ``no``, 201 with the codes."""
    services, caller = await requests.integration(request)
    silent = requests.flag(request, "silent", default=False)
    body = await requests.json_object(request)

    async def write() -> Response:
        made = await services.referrals.create_many(
            caller.workspace_id, caller.application_id, body
        )
        if silent:
            return Response(status_code=204)
        data = [referral_json(referral) for referral in made]
        return JSONResponse({"totalResultSize": len(data), "data": data}, status_code=201)

    profiles = body.get("advocateProfileIntegrationIds")
    profiles = profiles if isinstance(profiles, list) else []
    return await once(request, services, caller, body, write, profile_ids=profiles)
