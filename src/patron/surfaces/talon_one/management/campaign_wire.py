"""Campaigns and rulesets on the Management API's wire.

Bodies: the legacy SDK's ``NewCampaign`` (create) and the current SDK's
``UpdateCampaign`` (update, and accepted by create too) share their keys; a
key left out keeps its value (an update changes only what it sends), and
``null`` clears the optional ones (``startTime``, ``endTime``,
``couponSettings``, ``referralSettings``, ``activeRulesetId``). ``priority``
is Patron's: campaigns run in ascending priority, then id. Keys Patron has no
use for (``campaignGroups``, ``linkedStoreIds``…) are accepted and ignored.

Answers carry the union of the fields every SDK version requires (``budgets``,
``frontendState``, ``storesImported``…). Patron does not record which manager
changed what: ``userId`` is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.campaign_records import CampaignRecord, RulesetRecord, frontend_state
from patron.domain.promotions.campaign_search import MAX_PAGE, Paging
from patron.domain.promotions.campaigns import DEFAULT_PATTERN, DEFAULT_VALID_CHARACTERS
from patron.surfaces.http.numbers import whole_number
from patron.surfaces.talon_one.requests import MAX_ID
from patron.surfaces.talon_one.wire import moment

ABSENT: Any = object()
NO_USER = 0  # Talon's userId: who made it (Patron does not record it)


# -- reading bodies ----------------------------------------------------------------


def _text(value: Any, key: str, problems: list[Problem]) -> Any:
    if isinstance(value, str):
        return value
    problems.append(Problem("a string", key))
    return ABSENT


def _strings(value: Any, key: str, problems: list[Problem]) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    problems.append(Problem("a list of strings", key))
    return ABSENT


def _object(value: Any, key: str, problems: list[Problem]) -> Any:
    if isinstance(value, dict):
        return value
    problems.append(Problem("an object", key))
    return ABSENT


def _limits(value: Any, key: str, problems: list[Problem]) -> Any:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append(Problem("a list of LimitConfig objects", key))
        return ABSENT
    # ``entities`` is required by every SDK reading it back: none means the whole campaign.
    return tuple({"entities": [], **item} for item in value)


def _code_settings(value: Any, key: str, problems: list[Problem]) -> Any:
    """``CodeGeneratorSettings``: the SDKs need both keys back; a missing one is the default."""
    if not isinstance(value, dict):
        problems.append(Problem("an object", key))
        return ABSENT
    defaults = {"validCharacters": list(DEFAULT_VALID_CHARACTERS), "couponPattern": DEFAULT_PATTERN}
    return {**defaults, **value}


def integer(value: Any, key: str, problems: list[Problem], low: int = 1, high: int = MAX_ID) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    problems.append(Problem(f"an integer from {low} to {high}", key))
    return ABSENT


def _priority(value: Any, key: str, problems: list[Problem]) -> Any:
    return integer(value, key, problems, -MAX_ID, MAX_ID)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time in UTC (one without an offset is read as UTC), or None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if 1900 <= parsed.year <= 9000 else None


def _time(value: Any, key: str, problems: list[Problem]) -> Any:
    parsed = parse_time(value)
    if parsed is None:
        problems.append(Problem("an RFC 3339 date-time (2025-01-31T12:00:00Z)", key))
        return ABSENT
    return parsed


Reader = Callable[[Any, str, list[Problem]], Any]
# wire key -> (CampaignRecord field, reader, whether null clears it)
CAMPAIGN_FIELDS: dict[str, tuple[str, Reader, bool]] = {
    "name": ("name", _text, False),
    "description": ("description", _text, False),
    "state": ("state", _text, False),
    "type": ("type", _text, False),
    "tags": ("tags", _strings, False),
    "features": ("features", _strings, False),
    "limits": ("limits", _limits, False),
    "attributes": ("attributes", _object, False),
    "priority": ("priority", _priority, False),
    "startTime": ("start_time", _time, True),
    "endTime": ("end_time", _time, True),
    "couponSettings": ("coupon_settings", _code_settings, True),
    "referralSettings": ("referral_settings", _code_settings, True),
    "activeRulesetId": ("active_ruleset_id", integer, True),
}


def campaign_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``CampaignRecord`` fields a body sets, or Invalid naming every bad key."""
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for key, (field, read, nullable) in CAMPAIGN_FIELDS.items():
        if key not in body:
            continue
        value = body[key]
        if value is None:
            if nullable:
                changes[field] = None
            continue
        parsed = read(value, key, problems)
        if parsed is not ABSENT:
            changes[field] = parsed
    if problems:
        raise Invalid.of(problems)
    return changes


def new_campaign(application_id: int, body: Mapping[str, Any]) -> CampaignRecord:
    changes = campaign_changes(body)
    name = changes.pop("name", None)
    if name is None:
        raise Invalid.of([Problem("required", "name")])
    return CampaignRecord(0, application_id, name, **changes)


def ruleset_body(body: Mapping[str, Any]) -> tuple[dict[str, Any], bool | None]:
    """A legacy ``NewRuleset`` body: the ruleset to save, and its ``activate`` flag."""
    problems: list[Problem] = []
    activate = body.get("activate")
    if activate is not None and not isinstance(activate, bool):
        problems.append(Problem("true or false", "activate"))
    rb_version = body.get("rbVersion")
    if rb_version is not None and not (isinstance(rb_version, str) and len(rb_version) <= 40):
        problems.append(Problem("a string of at most 40 characters", "rbVersion"))
    bindings = body.get("bindings")
    if bindings is None:
        bindings = []
    problems.extend(_array_expressions(bindings, "bindings"))
    rules = body.get("rules")
    if isinstance(rules, list):
        for index, rule in enumerate(rules):
            if isinstance(rule, dict) and "bindings" in rule:
                problems.extend(_array_expressions(rule["bindings"], f"rules.{index}.bindings"))
    if problems:
        raise Invalid.of(problems)
    document: dict[str, Any] = {"rules": rules, "bindings": bindings}
    if rb_version is not None:
        document["rbVersion"] = rb_version
    return document, activate


def _array_expressions(bindings: Any, at: str) -> list[Problem]:
    """Talon's ``Binding.expression`` is an array (a call): the SDKs read nothing else back."""
    if not isinstance(bindings, list):
        return [Problem("a list of bindings", at)]
    return [
        Problem("a Talang call: a JSON array", f"/{at.replace('.', '/')}/{index}/expression")
        for index, binding in enumerate(bindings)
        if isinstance(binding, dict) and not isinstance(binding.get("expression"), list)
    ]


# -- query parameters ---------------------------------------------------------------


def query_integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    number = whole_number(text)
    if number is None or not low <= number <= high:
        raise Invalid.of([Problem(f"an integer from {low} to {high}", name)])
    return number


def query_time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    parsed = parse_time(text)
    if parsed is None:
        raise Invalid.of([Problem("an RFC 3339 date-time", name)])
    return parsed


def paging(request: Request) -> Paging:
    return Paging(
        page_size=query_integer(request, "pageSize", MAX_PAGE, 1, MAX_PAGE),
        skip=query_integer(request, "skip", 0, 0, MAX_ID),
        sort=request.query_params.get("sort") or None,
    )


# -- answers ------------------------------------------------------------------------


def campaign_json(campaign: CampaignRecord, now: datetime) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": campaign.id,
        "created": moment(campaign.created_at),
        "applicationId": campaign.application_id,
        "userId": NO_USER,
        "name": campaign.name,
        "description": campaign.description,
        "attributes": dict(campaign.attributes),
        "state": campaign.state,
        "tags": list(campaign.tags),
        "features": list(campaign.features),
        "limits": [dict(limit) for limit in campaign.limits],
        "campaignGroups": [],
        "type": campaign.type,
        "linkedStoreIds": [],
        "budgets": [],
        "updated": moment(campaign.updated_at),
        "frontendState": str(frontend_state(campaign, now)),
        "storesImported": False,
        "valueMapsIds": [],
        "priority": campaign.priority,
    }
    optional = {
        "startTime": moment(campaign.start_time),
        "endTime": moment(campaign.end_time),
        "activeRulesetId": campaign.active_ruleset_id,
        "couponSettings": campaign.coupon_settings,
        "referralSettings": campaign.referral_settings,
    }
    document.update({key: value for key, value in optional.items() if value is not None})
    return document


def ruleset_json(ruleset: RulesetRecord) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": ruleset.id,
        "created": moment(ruleset.created_at),
        "userId": NO_USER,
        "campaignId": ruleset.campaign_id,
        "rules": list(ruleset.rules),
        "bindings": list(ruleset.bindings),
    }
    if ruleset.rb_version is not None:
        document["rbVersion"] = ruleset.rb_version
    if ruleset.activated_at is not None:
        document["activatedAt"] = moment(ruleset.activated_at)
    return document
