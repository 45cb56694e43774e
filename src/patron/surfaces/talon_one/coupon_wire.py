"""Coupons in Talon's JSON: the ``Coupon`` answer and the ``NewCoupons``/``UpdateCoupon`` bodies.

``Coupon`` carries every field a Talon SDK requires (id, created,
campaignId, value, usageLimit, usageCounter) and the optional ones Patron
knows. Bodies are read field by field: a wrong type is a 400 naming the
field, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.coupon_model import CouponTerms, ReservedProfile, StoredCoupon
from patron.surfaces.talon_one.wire import customer_profile, moment, number

PROFILE_LIMIT_ACTION = "redeemCoupon"


def coupon_json(coupon: StoredCoupon) -> dict[str, Any]:
    terms = coupon.terms
    answer: dict[str, Any] = {
        "id": coupon.id,
        "created": moment(coupon.created_at),
        "campaignId": coupon.campaign_id,
        "value": coupon.value,
        "usageLimit": terms.usage_limit,
        "discountLimit": number(terms.discount_limit),
        "reservationLimit": terms.reservation_limit,
        "usageCounter": coupon.usage_counter,
        "discountCounter": number(coupon.discount_counter),
        "discountRemainder": number(coupon.discount_remainder),
        "reservationCounter": coupon.reservation_counter,
        "attributes": dict(terms.attributes),
        "limits": limits_json(terms),
        "batchId": coupon.batch_id,
        "isReservationMandatory": terms.is_reservation_mandatory,
        "implicitlyReserved": terms.implicitly_reserved,
    }
    if terms.start_date is not None:
        answer["startDate"] = moment(terms.start_date)
    if terms.expiry_date is not None:
        answer["expiryDate"] = moment(terms.expiry_date)
    if terms.recipient_integration_id:
        answer["recipientIntegrationId"] = terms.recipient_integration_id
    return answer


def limits_json(terms: CouponTerms) -> list[dict[str, Any]]:
    if not terms.per_profile_limit:
        return []
    return [
        {"action": PROFILE_LIMIT_ACTION, "limit": terms.per_profile_limit, "entities": ["Profile"]}
    ]


def profile_json(holder: ReservedProfile, workspace_id: str, account_id: int) -> dict[str, Any]:
    """Talon's ``CustomerProfile`` of a reservation holder (a customer yet or not)."""
    return customer_profile(
        workspace_id=workspace_id,
        integration_id=holder.integration_id,
        created=holder.created_at or holder.reserved_at,
        attributes=holder.attributes,
        account_id=account_id,
        closed_sessions=holder.closed_sessions,
        total_sales=holder.total_sales,
        last_activity=holder.updated_at or holder.reserved_at,
    )


# -- bodies --------------------------------------------------------------------

TERM_FIELDS = {
    "usageLimit": "usage_limit",
    "discountLimit": "discount_limit",
    "reservationLimit": "reservation_limit",
    "startDate": "start_date",
    "expiryDate": "expiry_date",
    "limits": "per_profile_limit",
    "recipientIntegrationId": "recipient_integration_id",
    "attributes": "attributes",
    "isReservationMandatory": "is_reservation_mandatory",
    "implicitlyReserved": "implicitly_reserved",
}


def terms_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``CouponTerms`` fields the body sets (absent or null: not set), or Invalid."""
    problems: list[Problem] = []
    changes: dict[str, Any] = {}
    for name, attribute in TERM_FIELDS.items():
        value = body.get(name)
        if value is None:
            continue
        read = _READERS[attribute](value, name, problems)
        if read is not _BAD:
            changes[attribute] = read
    if problems:
        raise Invalid.of(problems)
    return changes


def new_terms(body: Mapping[str, Any]) -> CouponTerms:
    """``NewCoupons``'s terms (``usageLimit`` required)."""
    if body.get("usageLimit") is None:
        raise Invalid.of([Problem("required: 0 (unlimited) to 999999", "usageLimit")])
    return CouponTerms(**terms_changes(body))


def integer(value: Any, name: str, problems: list[Problem]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        problems.append(Problem("a whole number", name))
        return _BAD
    return int(value)


def text(value: Any, name: str, problems: list[Problem]) -> Any:
    if not isinstance(value, str):
        problems.append(Problem("a string", name))
        return _BAD
    return value


def strings(value: Any, name: str, problems: list[Problem]) -> Any:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(Problem("a list of strings", name))
        return _BAD
    return tuple(value)


def _amount(value: Any, name: str, problems: list[Problem]) -> Any:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.append(Problem("a number", name))
        return _BAD
    return amount


def _flag(value: Any, name: str, problems: list[Problem]) -> Any:
    if not isinstance(value, bool):
        problems.append(Problem("true or false", name))
        return _BAD
    return value


def _object(value: Any, name: str, problems: list[Problem]) -> Any:
    if not isinstance(value, dict):
        problems.append(Problem("an object", name))
        return _BAD
    return value


def timestamp(value: Any, name: str, problems: list[Problem]) -> Any:
    parsed = parse_moment(value) if isinstance(value, str) else None
    if parsed is None:
        problems.append(Problem("an RFC 3339 date-time (2025-01-31T23:59:59Z)", name))
        return _BAD
    return parsed


def parse_moment(value: str) -> datetime | None:
    """An RFC 3339 date-time in UTC, or None (also for one UTC cannot hold: year 1 at +05:00)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _limits(value: Any, name: str, problems: list[Problem]) -> Any:
    """Talon's ``limits``: on a coupon, only a per-customer redemption limit."""
    if not isinstance(value, list):
        problems.append(Problem("a list of limits", name))
        return _BAD
    per_profile = 0
    for index, entry in enumerate(value):
        where = f"{name}.{index}"
        if (
            not isinstance(entry, dict)
            or entry.get("action") != PROFILE_LIMIT_ACTION
            or entry.get("entities") != ["Profile"]
        ):
            problems.append(
                Problem("only {action: redeemCoupon, entities: [Profile]} limits", where)
            )
            return _BAD
        if entry.get("period"):
            problems.append(Problem("periodic coupon limits are not supported", f"{where}.period"))
            return _BAD
        limit = integer(entry.get("limit"), f"{where}.limit", problems)
        if limit is _BAD:
            return _BAD
        per_profile = limit
    return per_profile


_BAD = object()
_READERS = {
    "usage_limit": integer,
    "discount_limit": _amount,
    "reservation_limit": integer,
    "start_date": timestamp,
    "expiry_date": timestamp,
    "per_profile_limit": _limits,
    "recipient_integration_id": text,
    "attributes": _object,
    "is_reservation_mandatory": _flag,
    "implicitly_reserved": _flag,
}
