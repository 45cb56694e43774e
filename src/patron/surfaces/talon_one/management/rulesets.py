"""Rulesets: ``POST``, ``PUT`` and ``GET …/campaigns/{campaignId}/rulesets…``.

``POST`` and ``PUT`` take the legacy SDK's ``NewRuleset{rules, bindings,
rbVersion, activate}``; ``GET`` answers the current SDK's ``get_ruleset`` and
``get_rulesets``. Rulesets are versions, never changed once saved (effects
name the ruleset that made them): ``PUT …/rulesets/{rulesetId}`` saves the
rules as a new version and answers it, with its new id. The new version is
active if ``activate`` is true or, without ``activate``, if the one it
replaces was. A ruleset that cannot compile is refused (400), each error
pointing at its place (``source.pointer``: ``/rules/0/condition/1``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from patron.domain.promotions.campaign_search import Key, Paging
from patron.services import Services
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.management import campaign_wire as wire

router = APIRouter(
    prefix="/v1/applications/{application_id}/campaigns/{campaign_id}/rulesets",
    tags=["talon.one management"],
)
SORTS: dict[str, Key] = {"id": lambda r: r.id, "created": lambda r: r.created_at}


async def _caller(
    request: Request, application_id: str, campaign_id: str
) -> tuple[Services, str, int, int]:
    services, workspace_id = await requests.management(request)
    return (
        services,
        workspace_id,
        requests.path_id(application_id, "application"),
        requests.path_id(campaign_id, "campaign"),
    )


@router.post("", status_code=201)
async def create_ruleset(request: Request, application_id: str, campaign_id: str) -> dict[str, Any]:
    services, workspace_id, application, campaign = await _caller(
        request, application_id, campaign_id
    )
    document, activate = wire.ruleset_body(await requests.json_object(request))
    saved = await services.campaigns.save_ruleset(
        workspace_id, application, campaign, document, activate=bool(activate)
    )
    return wire.ruleset_json(saved)


@router.put("/{ruleset_id}")
async def update_ruleset(
    request: Request, application_id: str, campaign_id: str, ruleset_id: str
) -> dict[str, Any]:
    services, workspace_id, application, campaign = await _caller(
        request, application_id, campaign_id
    )
    replaced = requests.path_id(ruleset_id, "ruleset")
    document, activate = wire.ruleset_body(await requests.json_object(request))
    saved = await services.campaigns.replace_ruleset(
        workspace_id, application, campaign, replaced, document, activate=activate
    )
    return wire.ruleset_json(saved)


@router.get("")
async def get_rulesets(request: Request, application_id: str, campaign_id: str) -> dict[str, Any]:
    services, workspace_id, application, campaign = await _caller(
        request, application_id, campaign_id
    )
    paging: Paging = wire.paging(request)
    found = await services.campaigns.list_rulesets(workspace_id, application, campaign)
    total, page = paging.apply(found, SORTS)
    return {"totalResultSize": total, "data": [wire.ruleset_json(ruleset) for ruleset in page]}


@router.get("/{ruleset_id}")
async def get_ruleset(
    request: Request, application_id: str, campaign_id: str, ruleset_id: str
) -> dict[str, Any]:
    services, workspace_id, application, campaign = await _caller(
        request, application_id, campaign_id
    )
    found = await services.campaigns.get_ruleset(
        workspace_id, application, campaign, requests.path_id(ruleset_id, "ruleset")
    )
    return wire.ruleset_json(found)
