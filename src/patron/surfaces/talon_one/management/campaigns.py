"""Campaigns: ``POST``, ``GET``, ``PUT`` and ``DELETE /v1/applications/{applicationId}/campaigns…``.

``POST`` is the legacy SDK's ``create_campaign`` (the current SDK has no
create; it takes its ``UpdateCampaign`` body too); the others are the current
SDK's ``get_campaigns``, ``get_campaign``, ``update_campaign`` and
``delete_campaign``. A campaign runs its ``activeRulesetId`` while its state
is ``enabled`` and the time is within ``startTime``/``endTime``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from patron.domain.promotions.campaign_search import CampaignQuery
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.management import campaign_wire as wire

router = APIRouter(prefix="/v1/applications/{application_id}", tags=["talon.one management"])


@router.post("/campaigns", status_code=201)
async def create_campaign(request: Request, application_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    application = requests.path_id(application_id, "application")
    body = await requests.json_object(request)
    made = await services.campaigns.create(workspace_id, wire.new_campaign(application, body))
    return wire.campaign_json(made, services.campaigns.clock())


@router.get("/campaigns")
async def get_campaigns(request: Request, application_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    application = requests.path_id(application_id, "application")
    params = request.query_params
    query = CampaignQuery(
        paging=wire.paging(request),
        state=params.get("campaignState") or None,
        name=params.get("name") or None,
        tags=params.get("tags") or None,
        created_before=wire.query_time(request, "createdBefore"),
        created_after=wire.query_time(request, "createdAfter"),
    )
    total, page = await services.campaigns.search(workspace_id, application, query)
    now = services.campaigns.clock()
    return {
        "totalResultSize": total,
        "hasMore": query.paging.skip + len(page) < total,
        "data": [wire.campaign_json(campaign, now) for campaign in page],
    }


@router.get("/campaigns/{campaign_id}")
async def get_campaign(request: Request, application_id: str, campaign_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    found = await services.campaigns.get(
        workspace_id,
        requests.path_id(application_id, "application"),
        requests.path_id(campaign_id, "campaign"),
    )
    return wire.campaign_json(found, services.campaigns.clock())


@router.put("/campaigns/{campaign_id}")
async def update_campaign(
    request: Request, application_id: str, campaign_id: str
) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    application = requests.path_id(application_id, "application")
    campaign = requests.path_id(campaign_id, "campaign")
    changes = wire.campaign_changes(await requests.json_object(request))
    updated = await services.campaigns.update(workspace_id, application, campaign, changes)
    return wire.campaign_json(updated, services.campaigns.clock())


@router.delete("/campaigns/{campaign_id}", status_code=204)
async def delete_campaign(request: Request, application_id: str, campaign_id: str) -> Response:
    services, workspace_id = await requests.management(request)
    await services.campaigns.delete(
        workspace_id,
        requests.path_id(application_id, "application"),
        requests.path_id(campaign_id, "campaign"),
    )
    return Response(status_code=204)
