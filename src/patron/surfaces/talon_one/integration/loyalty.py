"""``GET /v1/loyalty_programs/{id}/profile/{integrationId}/balances`` (Integration API):
a customer's balances in a program of the application's workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.loyalty import Balance
from patron.surfaces.talon_one import requests, wire

router = APIRouter(prefix="/v1", tags=["talon.one integration"])


@router.get("/loyalty_programs/{program_id}/profile/{integration_id}/balances")
async def get_loyalty_balances(
    request: Request, program_id: str, integration_id: str
) -> dict[str, Any]:
    """``LoyaltyBalancesWithTiers``. ``endDate`` is the moment points count as active,
    pending or expired at (now if absent); ``subledgerId`` keeps that subledger only
    (``""`` or absent: all, the main one as ``balance``)."""
    services, caller = await requests.integration(request)
    at = _end_date(request.query_params.get("endDate"))
    balances = await services.loyalty.balances(
        workspace_id=caller.workspace_id,
        program_id=requests.path_id(program_id, "loyalty program"),
        integration_id=integration_id,
        at=at,
    )
    wanted = request.query_params.get("subledgerId") or ""
    main = balances.pop("")
    if wanted:
        found = balances.get(wanted, Balance())
        return {"subledgerBalances": {wanted: balance_json(found)}}
    return {
        "balance": balance_json(main),
        "subledgerBalances": {key: balance_json(value) for key, value in balances.items()},
    }


def balance_json(balance: Balance) -> dict[str, Any]:
    return {
        "activePoints": wire.number(balance.current),
        "pendingPoints": wire.number(balance.pending),
        "spentPoints": wire.number(balance.spent),
        "expiredPoints": wire.number(balance.expired),
        "negativePoints": wire.number(balance.negative),
    }


def _end_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "+"))  # a "+" the query decoded
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise Invalid.of([Problem("an RFC 3339 date and time", "endDate")]) from None
