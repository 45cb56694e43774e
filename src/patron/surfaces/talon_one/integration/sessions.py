"""``PUT /v2/customer_sessions/{customerSessionId}`` and its API v1 form.

Query flags as every client spells them (``dry=True``); ``now`` (RFC 3339,
in the future, only with ``dry``); an ``Idempotency-Key`` header replays the
answer kept for it (24 hours); a ``Content-Signature`` header is accepted and
ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.session_request import (
    SessionRequest,
    parse_session_request,
    request_digest,
)
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.idempotent import answer_response, idempotency
from patron.surfaces.talon_one.integration.session_json import (
    response_content,
    v1_answer,
    v2_answer,
)

router = APIRouter(tags=["talon.one integration"])


def now_parameter(request: Request) -> datetime | None:
    text = request.query_params.get("now")
    if text is None or text == "":
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # (an offset UTC cannot hold: 9999-12-31T23:00-02:00)
        raise Invalid.of([Problem("an RFC 3339 date-time", "now")]) from None


@router.put("/v2/customer_sessions/{customer_session_id:path}")
async def update_customer_session_v2(request: Request, customer_session_id: str) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)
    dry = requests.flag(request, "dry")
    now = now_parameter(request)
    session_request = parse_session_request(body)
    account = await requests.account_id(services, caller.workspace_id)
    content = response_content(body)
    answer = await services.sessions.update(
        caller,
        customer_session_id,
        session_request,
        render=partial(v2_answer, content=content, account_id=account),
        dry=dry,
        now_override=now,
        idempotency=idempotency(request, body),
        failure_reasons="ruleFailureReasons" in content,
    )
    return answer_response(answer)


def v1_session_request(body: dict[str, Any]) -> SessionRequest:
    """v1's ``NewCustomerSession`` (``coupon``, ``referral``) as the v2 session fields."""
    document = {k: v for k, v in body.items() if k not in ("coupon", "referral", "total")}
    coupon = body.get("coupon")
    if coupon is not None:
        document["couponCodes"] = [coupon] if coupon != "" else []
    if body.get("referral") is not None:
        document["referralCode"] = body["referral"]
    if body.get("state") not in (None, "open", "closed", "cancelled"):
        raise Invalid.of([Problem("one of open, closed, cancelled", "state")])
    parsed = parse_session_request(document, prefix="")
    return SessionRequest(parsed.fields, None, request_digest(body))


@router.put("/v1/customer_sessions/{customer_session_id:path}")
async def update_customer_session_v1(request: Request, customer_session_id: str) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)
    session_request = v1_session_request(body)
    account = await requests.account_id(services, caller.workspace_id)
    answer = await services.sessions.update(
        caller,
        customer_session_id,
        session_request,
        render=partial(v1_answer, account_id=account),
        dry=requests.flag(request, "dry"),
        idempotency=idempotency(request, body),
    )
    return answer_response(answer)
