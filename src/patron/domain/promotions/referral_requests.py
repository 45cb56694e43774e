"""Reading Talon's referral bodies (``NewReferral``, ``NewReferralsForMultipleAdvocates``,
``UpdateReferral``) into checked values, or Invalid with a pointer per problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.talang.values import parse_time

MAX_USAGE_LIMIT = 999_999
MAX_INTEGRATION_ID = 1000
MAX_ADVOCATES = 1000
MAX_ID = 2**31 - 1  # Talon's ids are 32-bit integers
DEFAULT_USAGE_LIMIT = 1  # a referral code is good for one friend unless told otherwise


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    """What the codes of one request share (Talon's optional fields)."""

    usage_limit: int = DEFAULT_USAGE_LIMIT
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReferralRequest:
    campaign_id: int
    advocates: tuple[str, ...]
    terms: ReferralTerms
    friend: str | None = None
    pattern: str | None = None  # overrides the campaign's referral settings
    valid_characters: tuple[str, ...] | None = None


def _integer(body: Mapping[str, Any], key: str, problems: list[Problem]) -> int | None:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        problems.append(Problem("an id (a positive integer)", key))
        return None
    return value


def _text(value: Any, key: str, problems: list[Problem], *, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        problems.append(Problem(f"1 to {limit} characters", key))
        return None
    return value


def _moment(body: Mapping[str, Any], key: str, problems: list[Problem]) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    moment = utc_time(value) if isinstance(value, str) else None
    if moment is None:
        problems.append(Problem("an RFC 3339 date-time", key))
    return moment


def utc_time(text: str) -> datetime | None:
    """An RFC 3339 date-time in UTC, or None (also for one UTC cannot hold: year 1 at +05:00)."""
    moment = parse_time(text)
    try:
        return None if moment is None else moment.astimezone(UTC)
    except OverflowError:
        return None


def parse_terms(
    body: Mapping[str, Any], problems: list[Problem], *, usage_required: bool = False
) -> ReferralTerms:
    usage = body.get("usageLimit")
    if usage is None and not usage_required:
        usage = DEFAULT_USAGE_LIMIT
    if not isinstance(usage, int) or isinstance(usage, bool) or not 0 <= usage <= MAX_USAGE_LIMIT:
        problems.append(
            Problem(f"an integer from 0 (unlimited) to {MAX_USAGE_LIMIT}", "usageLimit")
        )
        usage = DEFAULT_USAGE_LIMIT
    start, expiry = _moment(body, "startDate", problems), _moment(body, "expiryDate", problems)
    if start is not None and expiry is not None and expiry <= start:
        problems.append(Problem("must be after startDate", "expiryDate"))
    attributes = body.get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        problems.append(Problem("an object", "attributes"))
        attributes = {}
    return ReferralTerms(usage, start, expiry, attributes)


def parse_new_referral(body: Mapping[str, Any]) -> ReferralRequest:
    """``NewReferral``: one advocate (and maybe the one friend who may use the code)."""
    problems: list[Problem] = []
    campaign_id = _integer(body, "campaignId", problems)
    advocate = body.get("advocateProfileIntegrationId")
    key = "advocateProfileIntegrationId"
    if _text(advocate, key, problems, limit=MAX_INTEGRATION_ID) is None and advocate is None:
        problems.append(Problem("required", key))
    friend = _text(
        body.get("friendProfileIntegrationId"),
        "friendProfileIntegrationId",
        problems,
        limit=MAX_INTEGRATION_ID,
    )
    terms = parse_terms(body, problems)
    if problems:
        raise Invalid.of(problems)
    assert campaign_id is not None
    assert isinstance(advocate, str)
    return ReferralRequest(campaign_id, (advocate,), terms, friend=friend)


def parse_many(body: Mapping[str, Any]) -> ReferralRequest:
    """``NewReferralsForMultipleAdvocates``: one code per advocate, optionally patterned."""
    problems: list[Problem] = []
    campaign_id = _integer(body, "campaignId", problems)
    key = "advocateProfileIntegrationIds"
    advocates = body.get(key)
    if not isinstance(advocates, list) or not 0 < len(advocates) <= MAX_ADVOCATES:
        problems.append(Problem(f"a list of 1 to {MAX_ADVOCATES} integration ids", key))
        advocates = []
    for index, advocate in enumerate(advocates):
        if advocate is None:
            problems.append(Problem("an integration id", f"{key}.{index}"))
        _text(advocate, f"{key}.{index}", problems, limit=MAX_INTEGRATION_ID)
    terms = parse_terms(body, problems, usage_required=True)
    pattern = body.get("referralPattern")
    if pattern is not None and (not isinstance(pattern, str) or not 3 <= len(pattern) <= 100):
        problems.append(Problem("3 to 100 characters", "referralPattern"))
    characters = body.get("validCharacters")
    if characters is not None and (
        not isinstance(characters, list)
        or not characters
        or not all(isinstance(c, str) and len(c) == 1 for c in characters)
    ):
        problems.append(Problem("a list of single characters", "validCharacters"))
    if problems:
        raise Invalid.of(problems)
    assert campaign_id is not None
    return ReferralRequest(
        campaign_id,
        tuple(advocates),
        terms,
        pattern=pattern,
        valid_characters=None if characters is None else tuple(characters),
    )


@dataclass(frozen=True, slots=True)
class ReferralChanges:
    """``UpdateReferral``: only the fields the body names change."""

    values: Mapping[str, Any]


def parse_update(body: Mapping[str, Any]) -> ReferralChanges:
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    if "friendProfileIntegrationId" in body:
        friend = body["friendProfileIntegrationId"]
        values["friend_integration_id"] = (
            _text(friend, "friendProfileIntegrationId", problems, limit=MAX_INTEGRATION_ID)
            if friend != ""
            else None
        )
    terms = parse_terms(body, problems)
    if "usageLimit" in body:
        values["usage_limit"] = terms.usage_limit
    for key, name in (("startDate", "start_date"), ("expiryDate", "expiry_date")):
        if key in body:
            values[name] = getattr(terms, name)
    if "attributes" in body:
        values["attributes"] = dict(terms.attributes)
    if problems:
        raise Invalid.of(problems)
    return ReferralChanges(values)
