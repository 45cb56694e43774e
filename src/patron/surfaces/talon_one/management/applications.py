"""``GET /v1/applications`` and ``GET /v1/applications/{applicationId}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from patron.domain.promotions.loyalty import Program
from patron.services import Services
from patron.surfaces.talon_one import requests, wire
from patron.surfaces.talon_one.management.loyalty_wire import program_json

router = APIRouter(prefix="/v1", tags=["talon.one management"])


async def account_id(services: Services, workspace_id: str) -> int:
    """Talon's integer account id: the workspace's installation number."""
    return await services.workspaces.installation_number(workspace_id)


@router.get("/applications")
async def get_applications(request: Request) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    found = await services.applications.of_workspace(workspace_id=workspace_id)
    account = await account_id(services, workspace_id)
    programs = await services.loyalty.of_workspace(workspace_id=workspace_id)
    data = [
        wire.application_json(application, account, subscribed(programs, application.id, account))
        for application in found
    ]
    return {"totalResultSize": len(data), "data": data}


@router.get("/applications/{application_id}")
async def get_application(request: Request, application_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    application = await services.applications.get(
        workspace_id=workspace_id, application_id=requests.path_id(application_id, "application")
    )
    account = await account_id(services, workspace_id)
    programs = await services.loyalty.of_workspace(workspace_id=workspace_id)
    return wire.application_json(
        application, account, subscribed(programs, application.id, account)
    )


def subscribed(programs: list[Program], application_id: int, account: int) -> list[dict[str, Any]]:
    """The loyalty programs the application subscribes to, as Talon lists them."""
    return [
        program_json(program, account)
        for program in programs
        if application_id in program.subscribed_applications
    ]
