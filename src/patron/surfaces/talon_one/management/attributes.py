"""Custom attributes: ``POST /v1/attributes``, ``GET /v1/attributes`` and ``…/{attributeId}``.

Declaring an attribute documents it (title, type, suggestions); Patron does
not require it: sessions, profiles and events may carry any attribute.
``NewAttribute`` keys Patron does not keep (``hasAllowedList``,
``subscribedApplicationsIds``…) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.attributes import ENTITIES, AttributeRecord
from patron.domain.promotions.campaign_search import Key
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.management import campaign_wire as wire
from patron.surfaces.talon_one.management.applications import account_id
from patron.surfaces.talon_one.wire import moment

router = APIRouter(prefix="/v1", tags=["talon.one management"])
REQUIRED_TEXT = ("entity", "name", "title", "type", "description")
SORTS: dict[str, Key] = {
    "id": lambda a: a.id,
    "name": lambda a: a.name,
    "title": lambda a: a.title,
    "entity": lambda a: a.entity,
    "created": lambda a: a.created_at,
}


def new_attribute(workspace_id: str, body: dict[str, Any]) -> AttributeRecord:
    problems = [
        Problem("required: a string", key)
        for key in REQUIRED_TEXT
        if not isinstance(body.get(key), str)
    ]
    suggestions = body.get("suggestions", [])
    if not isinstance(suggestions, list) or not all(isinstance(s, str) for s in suggestions):
        problems.append(Problem("a list of strings", "suggestions"))
    editable = body.get("editable", True)
    if not isinstance(editable, bool):
        problems.append(Problem("true or false", "editable"))
    event_type = body.get("eventType") or ""
    if not isinstance(event_type, str):
        problems.append(Problem("a string", "eventType"))
    if problems:
        raise Invalid.of(problems)
    return AttributeRecord(
        id=0,
        workspace_id=workspace_id,
        entity=body["entity"],
        name=body["name"],
        title=body["title"],
        type=body["type"],
        description=body["description"],
        suggestions=tuple(suggestions),
        editable=editable,
        event_type=event_type,
    )


def attribute_json(attribute: AttributeRecord, account: int) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": attribute.id,
        "created": moment(attribute.created_at),
        "accountId": account,
        "entity": attribute.entity,
        "name": attribute.name,
        "title": attribute.title,
        "type": attribute.type,
        "description": attribute.description,
        "suggestions": list(attribute.suggestions),
        "editable": attribute.editable,
        "hasAllowedList": False,
        "restrictedBySuggestions": False,
        "subscribedApplicationsIds": [],
    }
    if attribute.event_type:
        document["eventType"] = attribute.event_type
    return document


@router.post("/attributes", status_code=201)
async def create_attribute(request: Request) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    body = await requests.json_object(request)
    made = await services.attributes.create(new_attribute(workspace_id, body))
    return attribute_json(made, await account_id(services, workspace_id))


@router.get("/attributes")
async def get_attributes(request: Request) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    paging = wire.paging(request)
    entity = request.query_params.get("entity") or None
    if entity is not None and entity not in ENTITIES:
        raise Invalid.of([Problem(f"one of {', '.join(ENTITIES)}", "entity")])
    found = await services.attributes.list(workspace_id, entity)
    total, page = paging.apply(found, SORTS)
    account = await account_id(services, workspace_id)
    return {"totalResultSize": total, "data": [attribute_json(a, account) for a in page]}


@router.get("/attributes/{attribute_id}")
async def get_attribute(request: Request, attribute_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    found = await services.attributes.get(workspace_id, requests.path_id(attribute_id, "attribute"))
    return attribute_json(found, await account_id(services, workspace_id))
