"""A campaign's referral codes: ``update_referral``, ``delete_referral`` and
``get_referrals_without_total_count`` (``…/campaigns/{campaignId}/referrals…``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.referral_requests import utc_time
from patron.domain.promotions.referrals import ReferralQuery
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.codes_wire import referral_json
from patron.surfaces.talon_one.management.audiences import query_number

router = APIRouter(prefix="/v1/applications/{application_id}/campaigns/{campaign_id}")
VALID = ("expired", "validNow", "validFuture")


def _ids(application_id: str, campaign_id: str) -> tuple[int, int]:
    return (
        requests.path_id(application_id, "application"),
        requests.path_id(campaign_id, "campaign"),
    )


@router.put("/referrals/{referral_id}")
async def update_referral(
    request: Request, application_id: str, campaign_id: str, referral_id: str
) -> Response:
    services, workspace_id = await requests.management(request)
    application, campaign = _ids(application_id, campaign_id)
    referral = requests.path_id(referral_id, "referral")
    body = await requests.json_object(request)
    updated = await services.referrals.update(workspace_id, application, campaign, referral, body)
    return JSONResponse(referral_json(updated))


@router.delete("/referrals/{referral_id}")
async def delete_referral(
    request: Request, application_id: str, campaign_id: str, referral_id: str
) -> Response:
    services, workspace_id = await requests.management(request)
    application, campaign = _ids(application_id, campaign_id)
    referral = requests.path_id(referral_id, "referral")
    await services.referrals.delete(workspace_id, application, campaign, referral)
    return Response(status_code=204)


@router.get("/referrals/no_total")
async def get_referrals_without_total_count(
    request: Request, application_id: str, campaign_id: str
) -> dict[str, Any]:
    services, workspace_id = await requests.management(request)
    application, campaign = _ids(application_id, campaign_id)
    query = referral_query(request)
    found, more = await services.referrals.page(workspace_id, application, campaign, query)
    return {"hasMore": more, "data": [referral_json(referral) for referral in found]}


def referral_query(request: Request) -> ReferralQuery:
    params = request.query_params
    limit, skip = query_number(request, "pageSize", 1000), query_number(request, "skip", 0)
    sort = params.get("sort") or "created"
    problems = []
    if not 1 <= limit <= 1000:
        problems.append(Problem("1 to 1000", "pageSize"))
    if not 0 <= skip <= 2**62:
        problems.append(Problem("0 or more", "skip"))
    if sort.removeprefix("-") not in ("id", "created"):
        problems.append(Problem("id or created, - for descending", "sort"))
    valid = params.get("valid") or None
    if valid is not None and valid not in VALID:
        problems.append(Problem("expired, validNow or validFuture", "valid"))
    usable = params.get("usable")
    before, after = (
        _moment(params.get("createdBefore"), "createdBefore", problems),
        _moment(params.get("createdAfter"), "createdAfter", problems),
    )
    if problems:
        raise Invalid.of(problems)
    return ReferralQuery(
        skip=skip,
        limit=limit,
        descending=sort.startswith("-"),
        code=params.get("code") or None,
        advocate=params.get("advocate") or None,
        usable=None if not usable else requests.flag(request, "usable"),
        valid=valid,
        created_before=before,
        created_after=after,
    )


def _moment(text: str | None, name: str, problems: list[Problem]) -> datetime | None:
    if not text:
        return None
    found = utc_time(text)
    if found is None:
        problems.append(Problem("an RFC 3339 date-time", name))
    return found
