"""``GET /v1/customer_profiles/{integrationId}/inventory``: what a profile holds in the
calling application. Each part comes only when its flag is set (``true`` or, as
six-era SDKs send it, ``True``); an unknown profile is 404."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from patron.domain.clock import utcnow
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.integration.profile_json import inventory_json
from patron.surfaces.talon_one.integration.profiles import integration_id_of_path

router = APIRouter(tags=["talon.one integration"])

NONE_HELD = ("giveaways", "achievements")  # Patron has neither: asked for, they are []


@router.get("/v1/customer_profiles/{integration_id:path}/inventory")
async def get_customer_inventory(request: Request, integration_id: str) -> Response:
    services, caller = await requests.integration(request)
    integration_id = integration_id_of_path(integration_id)
    wanted = {
        name: requests.flag(request, name)
        for name in ("profile", "referrals", "coupons", "loyalty", *NONE_HELD)
    }
    inventory = await services.profiles.inventory(
        caller=caller,
        integration_id=integration_id,
        profile=wanted["profile"],
        coupons=wanted["coupons"],
        referrals=wanted["referrals"],
        loyalty=wanted["loyalty"],
    )
    extra = [name for name in NONE_HELD if wanted[name]]
    return JSONResponse(
        inventory_json(inventory.profile, inventory.holdings, utcnow(), extra=extra)
    )
