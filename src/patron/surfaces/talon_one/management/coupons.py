"""A campaign's coupons: create (from a pattern, or one per recipient), update, delete, list.

``silent``: absent or ``no`` answers ``{totalResultSize, data}`` with the
coupons made; ``yes`` answers 204 (Talon's spec defaults to ``yes``; its SDKs
cannot read a 204 there, so Patron answers with the body unless asked not to).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.coupon_model import CouponQuery
from patron.domain.promotions.coupons import CodeRequest, CouponChanges
from patron.services import Services
from patron.surfaces.http.numbers import whole_number
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.coupon_wire import (
    coupon_json,
    new_terms,
    parse_moment,
    strings,
    terms_changes,
)

router = APIRouter(prefix="/v1/applications/{application_id}/campaigns/{campaign_id}")

PATTERN_FIELDS = {"validCharacters", "couponPattern", "uniquePrefix", "batchId"}


async def _place(
    request: Request, application_id: str, campaign_id: str
) -> tuple[Services, dict[str, Any]]:
    services, workspace_id = await requests.management(request)
    place = {
        "workspace_id": workspace_id,
        "application_id": requests.path_id(application_id, "application"),
        "campaign_id": requests.path_id(campaign_id, "campaign"),
    }
    return services, place


def _silent(request: Request) -> bool:
    value = request.query_params.get("silent", "no").strip().lower()
    if value not in ("yes", "no", ""):
        raise Invalid.of([Problem("yes or no", "silent")])
    return value == "yes"


def _code_request(
    body: dict[str, Any], *, count: int, recipients: tuple[str, ...] = ()
) -> CodeRequest:
    problems: list[Problem] = []
    characters = body.get("validCharacters")
    if characters is not None:
        characters = strings(characters, "validCharacters", problems)
        if not characters:
            problems.append(Problem("one or more single characters", "validCharacters"))
    for name in ("couponPattern", "uniquePrefix", "batchId"):
        if body.get(name) is not None and not isinstance(body[name], str):
            problems.append(Problem("a string", name))
    if problems:
        raise Invalid.of(problems)
    return CodeRequest(
        count=count,
        pattern=body.get("couponPattern") or None,
        characters=characters if isinstance(characters, tuple) else None,
        prefix=body.get("uniquePrefix") or "",
        recipients=recipients,
        batch_id=body.get("batchId") or None,
    )


async def _created(
    request: Request,
    services: Services,
    place: dict[str, Any],
    body: dict[str, Any],
    codes: CodeRequest,
) -> Any:
    silent = _silent(request)
    made = await services.coupons.create(
        **place, terms=new_terms(body), request=codes, return_coupons=not silent
    )
    if silent:
        return Response(status_code=204)
    return {"totalResultSize": made.count, "data": [coupon_json(c) for c in made.coupons]}


@router.post("/coupons")
async def create_coupons(request: Request, application_id: str, campaign_id: str) -> Any:
    services, place = await _place(request, application_id, campaign_id)
    body = await requests.json_object(request)
    count = body.get("numberOfCoupons")
    if isinstance(count, bool) or not isinstance(count, int):
        raise Invalid.of(
            [Problem("required: a whole number of codes, at least 1", "numberOfCoupons")]
        )
    return await _created(request, services, place, body, _code_request(body, count=count))


@router.post("/coupons_with_recipients")
async def create_coupons_for_multiple_recipients(
    request: Request, application_id: str, campaign_id: str
) -> Any:
    services, place = await _place(request, application_id, campaign_id)
    body = await requests.json_object(request)
    problems: list[Problem] = []
    recipients = strings(body.get("recipientsIntegrationIds"), "recipientsIntegrationIds", problems)
    if problems or not recipients:
        raise Invalid.of(
            [Problem("required: a list of integration ids", "recipientsIntegrationIds")]
        )
    codes = _code_request(body, count=len(recipients), recipients=recipients)
    return await _created(request, services, place, body, codes)


@router.put("/coupons/{coupon_id}")
async def update_coupon(
    request: Request, application_id: str, campaign_id: str, coupon_id: str
) -> dict[str, Any]:
    services, place = await _place(request, application_id, campaign_id)
    changes = terms_changes(await requests.json_object(request))
    updated = await services.coupons.update(
        **place, coupon_id=requests.path_id(coupon_id, "coupon"), changes=CouponChanges(changes)
    )
    return coupon_json(updated)


@router.delete("/coupons/{coupon_id}", status_code=204)
async def delete_coupon(
    request: Request, application_id: str, campaign_id: str, coupon_id: str
) -> Response:
    services, place = await _place(request, application_id, campaign_id)
    await services.coupons.delete(**place, coupon_id=requests.path_id(coupon_id, "coupon"))
    return Response(status_code=204)


@router.delete("/coupons", status_code=204)
async def delete_coupons(request: Request, application_id: str, campaign_id: str) -> Response:
    """Delete every coupon of the campaign the filters match (all of them without filters)."""
    services, place = await _place(request, application_id, campaign_id)
    query = coupon_query(request, place["application_id"], place["campaign_id"], paged=False)
    await services.coupons.delete_matching(workspace_id=place["workspace_id"], query=query)
    return Response(status_code=204)


@router.get("/coupons/no_total")
async def get_coupons_without_total_count(
    request: Request, application_id: str, campaign_id: str
) -> dict[str, Any]:
    services, place = await _place(request, application_id, campaign_id)
    query = coupon_query(request, place["application_id"], place["campaign_id"])
    page, has_more = await services.coupons.page(workspace_id=place["workspace_id"], query=query)
    return {"hasMore": has_more, "data": [coupon_json(c) for c in page]}


def coupon_query(
    request: Request, application_id: int, campaign_id: int, *, paged: bool = True
) -> CouponQuery:
    """Talon's list filters from the query string (bad values: 400 naming the parameter)."""
    params = request.query_params
    problems: list[Problem] = []

    def when(name: str) -> datetime | None:
        value = params.get(name)
        if not value:
            return None
        parsed = parse_moment(value)
        if parsed is None:
            problems.append(Problem("an RFC 3339 date-time", name))
        return parsed

    def count(name: str, default: int) -> int:
        value = params.get(name)
        if not value:
            return default
        parsed = whole_number(value)
        if parsed is None:
            problems.append(Problem("a whole number", name))
            return default
        return parsed

    def yes_no(name: str) -> bool | None:
        value = params.get(name, "").strip().lower()
        if value in ("", "true", "false"):
            return None if not value else value == "true"
        problems.append(Problem("true or false", name))
        return None

    query = CouponQuery(
        application_id=application_id,
        campaign_id=campaign_id,
        value=params.get("value", ""),
        exact_match=requests.flag(request, "exactMatch"),
        created_before=when("createdBefore"),
        created_after=when("createdAfter"),
        starts_before=when("startsBefore"),
        starts_after=when("startsAfter"),
        expires_before=when("expiresBefore"),
        expires_after=when("expiresAfter"),
        valid=params.get("valid", ""),
        now=datetime.now(UTC),
        usable=yes_no("usable"),
        redeemed=yes_no("redeemed"),
        recipient_integration_id=params.get("recipientIntegrationId") or None,
        batch_id=params.get("batchId") or None,
        sort=params.get("sort") or "id",
        skip=count("skip", 0) if paged else 0,
        limit=count("pageSize", 1000) if paged else 1000,
    )
    if params.get("referralId"):
        problems.append(Problem("coupons made by referrals are not tracked", "referralId"))
    if problems:
        raise Invalid.of(problems)
    return query
