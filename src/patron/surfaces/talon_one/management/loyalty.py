"""Loyalty programs in the Management API: read them, add and deduct a customer's
points, read a customer's ledger. Programs are made with ``patron loyalty create``
(Talon's API cannot create them either)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.loyalty_service import PointsChange
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.management.applications import account_id
from patron.surfaces.talon_one.management.loyalty_wire import (
    entries_of,
    program_json,
    sub_ledger_json,
)

router = APIRouter(prefix="/v1", tags=["talon.one management"])


@router.get("/loyalty_programs")
async def get_loyalty_programs(request: Request) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    programs = await services.loyalty.of_workspace(workspace_id=workspace_id)
    account = await account_id(services, workspace_id)
    return {"totalResultSize": len(programs), "data": [program_json(p, account) for p in programs]}


@router.get("/loyalty_programs/{program_id}")
async def get_loyalty_program(request: Request, program_id: str) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    program = await services.loyalty.get(
        workspace_id=workspace_id, program_id=requests.path_id(program_id, "loyalty program")
    )
    return program_json(program, await account_id(services, workspace_id))


@router.put("/loyalty_programs/{program_id}/profile/{integration_id}/add_points")
async def add_loyalty_points(request: Request, program_id: str, integration_id: str) -> Response:
    services, workspace_id = await requests.management(request)
    body = await requests.json_object(request)
    change = points_change(body, adding=True)
    await services.loyalty.add_points(
        workspace_id=workspace_id,
        program_id=requests.path_id(program_id, "loyalty program"),
        integration_id=integration_id,
        change=change,
    )
    return Response(status_code=204)


@router.put("/loyalty_programs/{program_id}/profile/{integration_id}/deduct_points")
async def remove_loyalty_points(request: Request, program_id: str, integration_id: str) -> Response:
    services, workspace_id = await requests.management(request)
    body = await requests.json_object(request)
    change = points_change(body, adding=False)
    await services.loyalty.deduct_points(
        workspace_id=workspace_id,
        program_id=requests.path_id(program_id, "loyalty program"),
        integration_id=integration_id,
        change=change,
    )
    return Response(status_code=204)


@router.get("/loyalty_programs/{program_id}/profile/{integration_id}")
async def get_loyalty_points(
    request: Request, program_id: str, integration_id: str
) -> dict[str, Any]:
    """Talon's ``LoyaltyLedger``: the main ledger and each subledger, with their
    transactions."""
    services, workspace_id = await requests.management(request)
    balances, entries = await services.loyalty.ledger(
        workspace_id=workspace_id,
        program_id=requests.path_id(program_id, "loyalty program"),
        integration_id=integration_id,
    )
    main = balances.pop("")
    return {
        "ledger": sub_ledger_json(main, entries_of(entries, "")),
        "subLedgers": {
            key: sub_ledger_json(value, entries_of(entries, key)) for key, value in balances.items()
        },
    }


# -- the request bodies -----------------------------------------------------------------


def points_change(body: dict[str, Any], *, adding: bool) -> PointsChange:
    """``AddLoyaltyPoints`` or ``DeductLoyaltyPoints`` (the fields of adding only when
    ``adding``), or Invalid naming every bad field."""
    problems: list[Problem] = []
    points = _points(body.get("points"), problems)
    name = _text(body, "name", problems)
    subledger = _text(body, "subledgerId", problems)
    application_id = body.get("applicationId")
    if application_id is not None and (
        type(application_id) is not int or not 0 < application_id <= requests.MAX_ID
    ):
        problems.append(Problem("an application id", "applicationId"))
    dates: dict[str, Any] = {}
    if adding:
        dates = {
            "validity": _text(body, "validityDuration", problems),
            "valid_until": _moment(body, "validUntil", problems),
            "pending": _text(body, "pendingDuration", problems),
            "pending_until": _moment(body, "pendingUntil", problems),
        }
    if problems:
        raise Invalid.of(problems)
    return PointsChange(points, name or "", subledger or "", application_id, **dates)


def _points(value: Any, problems: list[Problem]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem("a number of points", "points"))
        return Decimal(0)
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem("a number of points", "points"))
        return Decimal(0)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _text(body: dict[str, Any], key: str, problems: list[Problem]) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    problems.append(Problem("a string", key))
    return None


def _moment(body: dict[str, Any], key: str, problems: list[Problem]) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    problems.append(Problem("an RFC 3339 date and time (2025-01-01T00:00:00Z)", key))
    return None
