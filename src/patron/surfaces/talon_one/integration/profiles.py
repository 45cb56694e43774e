"""Customer profiles: ``PUT /v2/customer_profiles/{id}``, ``PUT /v2/customer_profiles``
(bulk), ``PUT /v1/customer_profiles/{id}`` and ``DELETE /v1/customer_data/{id}``.

A profile is the workspace's customer with that external id (see
``domain/promotions/profiles.py``). An integration id may hold ``/``
(percent-encoded by the SDKs): the routes take the rest of the path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.profile_rules import ProfileChange, ProfileOutcome
from patron.domain.promotions.profiles import (
    MAX_PROFILES,
    AudienceChanges,
    TalonProfile,
    integration_id_problem,
)
from patron.services import Services
from patron.surfaces.talon_one import requests
from patron.surfaces.talon_one.idempotent import once
from patron.surfaces.talon_one.integration import profile_json, session_json

router = APIRouter(tags=["talon.one integration"])
log = logging.getLogger("patron.talon_one")

# responseContent values of a profile update, and which of them Patron fills now.
RESPONSE_CONTENT = frozenset(
    {
        "customerProfile",
        "triggeredCampaigns",
        "loyalty",
        "event",
        "awardedGiveaways",
        "ruleFailureReasons",
    }
)
EMPTY_LISTS = ("triggeredCampaigns", "awardedGiveaways", "ruleFailureReasons")


def integration_id_of_path(value: str) -> str:
    """The integration id of the path; one no profile can have names none (404)."""
    problem = integration_id_problem(value, "integrationId")
    if problem is not None:
        raise NotFound("customer profile", value)
    return value


def _attributes(body: Mapping[str, Any], field: str, problems: list[Problem]) -> dict[str, Any]:
    value = body.get("attributes")
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("must be an object", field))
        return {}
    return value


def _ids(value: Any, field: str, problems: list[Problem]) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(Problem("must be a list of integer ids", field))
        return ()
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= requests.MAX_ID:
            problems.append(Problem(f"an id from 1 to {requests.MAX_ID}", f"{field}.{index}"))
            return ()
    return tuple(value)


def _audience_changes(body: Mapping[str, Any], problems: list[Problem]) -> AudienceChanges | None:
    changes = body.get("audiencesChanges")
    if changes is None:
        return None
    if not isinstance(changes, dict):
        problems.append(Problem("must be an object", "audiencesChanges"))
        return None
    adds = _ids(changes.get("adds"), "audiencesChanges.adds", problems)
    deletes = _ids(changes.get("deletes"), "audiencesChanges.deletes", problems)
    return AudienceChanges(adds, deletes)


def _response_content(body: Mapping[str, Any], problems: list[Problem]) -> list[str]:
    value = body.get("responseContent")
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item in RESPONSE_CONTENT for item in value
    ):
        problems.append(
            Problem(f"must be a list of: {', '.join(sorted(RESPONSE_CONTENT))}", "responseContent")
        )
        return []
    return value


@router.put("/v2/customer_profiles/{integration_id:path}")
async def update_customer_profile_v2(request: Request, integration_id: str) -> Response:
    """Set the profile's attributes and audiences. ``runRuleEngine=true`` evaluates the
    built-in ``talon_profile_created``/``talon_profile_updated`` event (``dry`` only then);
    without it the answer has no effects."""
    services, caller = await requests.integration(request)
    integration_id = integration_id_of_path(integration_id)
    run_rules = requests.flag(request, "runRuleEngine")
    dry = requests.flag(request, "dry")
    body = await requests.json_object(request)
    problems: list[Problem] = []
    attributes = _attributes(body, "attributes", problems)
    audiences = _audience_changes(body, problems)
    evaluable = _ids(body.get("evaluableCampaignIds"), "evaluableCampaignIds", problems)
    content = _response_content(body, problems)
    if dry and not run_rules:
        problems.append(Problem("only with runRuleEngine=true", "dry"))
    if problems:
        raise Invalid.of(problems)
    if run_rules:
        change = ProfileChange(
            integration_id,
            attributes,
            audiences,
            evaluable if dry and "evaluableCampaignIds" in body else None,
            failure_reasons="ruleFailureReasons" in content,
        )

        async def evaluate() -> Response:
            evaluated = await services.sessions.update_profile(caller, change, dry=dry)
            account = await requests.account_id(services, caller.workspace_id)
            answer = _rules_answer(evaluated, content, account)
            return JSONResponse(
                await _with_loyalty(services, caller, evaluated.profile, answer, content)
            )

        if dry:
            return await evaluate()
        return await once(request, services, caller, body, evaluate, profile_ids=[integration_id])

    async def write() -> Response:
        profile = await services.profiles.update(
            caller=caller, integration_id=integration_id, attributes=attributes, audiences=audiences
        )
        return JSONResponse(await _evaluation(services, caller, profile, content))

    return await once(request, services, caller, body, write, profile_ids=[integration_id])


def _rules_answer(evaluated: ProfileOutcome, content: list[str], account: int) -> dict[str, Any]:
    """The evaluation's answer (effects, created codes, the entities asked for)."""
    asked = set(content) - {"customerProfile", "loyalty"}
    answer = session_json.v2_state(evaluated.outcome, asked, account)
    if "customerProfile" in content:
        answer["customerProfile"] = profile_json.customer_profile_json(evaluated.profile)
    return answer


async def _with_loyalty(
    services: Services,
    caller: Caller,
    profile: TalonProfile,
    answer: dict[str, Any],
    content: list[str],
) -> dict[str, Any]:
    if "loyalty" in content:
        programs = await services.profiles.loyalty(
            caller=caller, integration_id=profile.integration_id
        )
        answer["loyalty"] = profile_json.loyalty_json(programs)
    return answer


async def _evaluation(
    services: Services, caller: Caller, profile: TalonProfile, content: list[str]
) -> dict[str, Any]:
    answer: dict[str, Any] = dict(profile_json.EMPTY_EVALUATION)
    if "customerProfile" in content:
        answer["customerProfile"] = profile_json.customer_profile_json(profile)
    if "loyalty" in content:
        programs = await services.profiles.loyalty(
            caller=caller, integration_id=profile.integration_id
        )
        answer["loyalty"] = profile_json.loyalty_json(programs)
    for name in EMPTY_LISTS:
        if name in content:
            answer[name] = []
    return answer


@router.put("/v2/customer_profiles")
async def update_customer_profiles_v2(request: Request) -> Response:
    """Up to 1,000 profiles in one transaction; never evaluates rules. ``silent=yes``:
    204; absent or ``no``: 200 with each profile (every SDK reads that)."""
    services, caller = await requests.integration(request)
    silent = requests.silent(request)
    body = await requests.json_object(request)
    changes = _bulk_changes(body)

    async def write() -> Response:
        profiles = await services.profiles.update_many(caller=caller, changes=changes)
        if silent:
            return Response(status_code=204)
        states = [
            {
                "customerProfile": profile_json.customer_profile_json(p),
                **profile_json.EMPTY_EVALUATION,
            }
            for p in profiles
        ]
        return JSONResponse({"integrationStates": states})

    ids = [integration_id for integration_id, _ in changes]
    return await once(request, services, caller, body, write, profile_ids=ids)


def _bulk_changes(body: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    items = body.get("customerProfiles")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise Invalid.of([Problem("must be a list", "customerProfiles")])
    if len(items) > MAX_PROFILES:
        raise Invalid.of([Problem(f"at most {MAX_PROFILES} profiles", "customerProfiles")])
    problems: list[Problem] = []
    changes = []
    for index, item in enumerate(items):
        field = f"customerProfiles.{index}"
        if not isinstance(item, dict):
            problems.append(Problem("must be an object", field))
            continue
        integration_id = item.get("integrationId")
        problem = integration_id_problem(integration_id, f"{field}.integrationId")
        if problem is not None:
            problems.append(problem)
        attributes = _attributes(item, f"{field}.attributes", problems)
        changes.append((str(integration_id), attributes))
    if problems:
        raise Invalid.of(problems)
    return changes


@router.put("/v1/customer_profiles/{integration_id:path}")
async def update_customer_profile_v1(request: Request, integration_id: str) -> Response:
    """API v1: set the attributes and evaluate the profile's built-in event; answer v1's
    ``IntegrationState``: the profile's latest session in the application (or an empty
    one), the profile, and the event with its effects."""
    services, caller = await requests.integration(request)
    integration_id = integration_id_of_path(integration_id)
    dry = requests.flag(request, "dry")
    body = await requests.json_object(request)
    problems: list[Problem] = []
    attributes = _attributes(body, "attributes", problems)
    if problems:
        raise Invalid.of(problems)
    change = ProfileChange(integration_id, attributes)

    async def write() -> Response:
        evaluated = await services.sessions.update_profile(caller, change, dry=dry)
        account = await requests.account_id(services, caller.workspace_id)
        outcome = evaluated.outcome
        if evaluated.latest_session is not None:
            outcome = replace(outcome, session=evaluated.latest_session)
        state = session_json.v1_state(outcome, account)
        state["profile"] = profile_json.customer_profile_json(evaluated.profile)
        return JSONResponse(state)

    if dry:
        return await write()
    return await once(request, services, caller, body, write, profile_ids=[integration_id])


@router.delete("/v1/customer_data/{integration_id:path}")
async def delete_customer_data(request: Request, integration_id: str) -> Response:
    """Erase the customer as Voucherify's permanent deletion does; 204 (the SDKs
    send ``Content-Type: application/json`` and no body: nothing is read)."""
    services, caller = await requests.integration(request)
    integration_id = integration_id_of_path(integration_id)

    async def write() -> Response:
        report = await services.profiles.delete_customer_data(
            workspace_id=caller.workspace_id, integration_id=integration_id
        )
        erased = {
            "customers": report.customers,
            "events": report.events,
            "activities": report.activities,
            "memberships": report.memberships,
            **report.related,
        }
        counts = ", ".join(f"{kind} {count}" for kind, count in erased.items())
        log.info("deletion %s erased customer %s: %s", report.id, report.customer_id, counts)
        return Response(status_code=204)

    return await once(request, services, caller, None, write)
