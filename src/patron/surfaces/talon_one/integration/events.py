"""``POST /v2/events`` and ``POST /v1/events``: custom events of a profile.

v2: the event is evaluated with the profile's open session in the
application (its cart, codes and attributes) or, without one, alone; it is
recorded as the customer's event. ``silent`` absent answers 200 with the
body (the SDKs fail on an empty 204), ``yes`` 204, ``no`` 200.

v1 (``NewEvent``): the event belongs to the session ``sessionId`` (created if
new; it must belong to the same profile) and answers ``IntegrationState``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.idempotency import Answer
from patron.domain.promotions.profiles import MAX_INTEGRATION_ID
from patron.domain.promotions.session_request import SessionRequest, request_digest
from patron.domain.promotions.session_steps import CustomEvent, SessionOutcome
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.idempotent import answer_response, idempotency
from patron.surfaces.talon_one.integration.session_json import (
    response_content,
    v1_answer,
    v2_answer,
)

router = APIRouter(tags=["talon.one integration"])
MAX_TYPE = 1000
BUILT_IN_PREFIX = "talon_"


def _event(body: dict[str, Any], *, profile_required: bool) -> CustomEvent:
    problems: list[Problem] = []
    kind = body.get("type")
    if not isinstance(kind, str) or not kind.strip() or len(kind) > MAX_TYPE:
        problems.append(Problem(f"is required: 1 to {MAX_TYPE} characters", "type"))
    elif kind.startswith(BUILT_IN_PREFIX):
        problems.append(Problem("built-in event types (talon_…) cannot be sent", "type"))
    attributes = body.get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        problems.append(Problem("must be an object", "attributes"))
    profile_id = body.get("profileId")
    if profile_id is None and not profile_required:
        profile_id = ""
    if (
        not isinstance(profile_id, str)
        or (profile_required and not profile_id)
        or len(profile_id) > MAX_INTEGRATION_ID
    ):
        message = f"is required: the customer's integration id (at most {MAX_INTEGRATION_ID})"
        problems.append(Problem(message, "profileId"))
    if problems:
        raise Invalid.of(problems)
    return CustomEvent(str(kind), attributes, str(profile_id))


def _campaign_ids(body: dict[str, Any]) -> tuple[int, ...] | None:
    ids = body.get("evaluableCampaignIds")
    if ids is None:
        return None
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise Invalid.of([Problem("must be a list of campaign ids", "evaluableCampaignIds")])
    return tuple(ids)


def _silently(outcome: SessionOutcome) -> Answer:
    return Answer(204, "")


@router.post("/v2/events")
async def track_event_v2(request: Request) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)
    event = _event(body, profile_required=True)
    dry = requests.flag(request, "dry")
    force = requests.flag(request, "forceCompleteEvaluation")
    if force and not dry:
        raise Invalid.of([Problem("only with dry=true", "forceCompleteEvaluation")])
    silent = requests.silent(request)
    account = await requests.account_id(services, caller.workspace_id)
    content = response_content(body)
    render = _silently if silent else partial(v2_answer, content=content, account_id=account)
    answer = await services.sessions.track_event(
        caller,
        event,
        render=render,
        dry=dry,
        evaluable_campaign_ids=_campaign_ids(body),
        idempotency=idempotency(request, body),
        failure_reasons=not silent and "ruleFailureReasons" in content,
    )
    return answer_response(answer)


@router.post("/v1/events")
async def track_event_v1(request: Request) -> Response:
    services, caller = await requests.integration(request)
    body = await requests.json_object(request)
    event = _event(body, profile_required=False)
    session_id = body.get("sessionId")
    if not isinstance(session_id, str) or not session_id:
        raise Invalid.of([Problem("is required: the session's integration id", "sessionId")])
    fields = {"profileId": event.profile_id} if event.profile_id else {}
    account = await requests.account_id(services, caller.workspace_id)
    answer = await services.sessions.update(
        caller,
        session_id,
        SessionRequest(fields, None, request_digest(body)),
        render=partial(v1_answer, account_id=account),
        dry=requests.flag(request, "dry"),
        idempotency=idempotency(request, body),
        event=event,
    )
    return answer_response(answer)
