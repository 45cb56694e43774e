"""Talon.One's JSON shapes, shared by both of its APIs.

Nested objects carry the union of the fields every SDK version requires
(a field one version added as required must be there for that version to
read the answer at all). Integers stay integers; times are RFC 3339 in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions.model import Application


def moment(value: datetime | None) -> str | None:
    """RFC 3339, UTC, ``Z``: what every Talon SDK parses."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def number(value: Decimal) -> int | float:
    """Money and points as JSON numbers: integral amounts as integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def application_json(
    application: Application, account_id: int, loyalty_programs: list[dict[str, Any]]
) -> dict[str, Any]:
    settings = application.settings
    return {
        "id": application.id,
        "created": moment(application.created_at),
        "modified": moment(application.updated_at),
        "accountId": account_id,
        "name": application.name,
        "description": application.description,
        "timezone": application.timezone,
        "currency": application.currency,
        "caseSensitivity": application.case_sensitivity,
        "attributes": dict(application.attributes),
        "limits": [],
        "defaultDiscountScope": settings.get("defaultDiscountScope", "sessionTotal"),
        "enableCascadingDiscounts": bool(settings.get("enableCascadingDiscounts", False)),
        "enableFlattenedCartItems": bool(settings.get("enableFlattenedCartItems", False)),
        "sandbox": bool(settings.get("sandbox", False)),
        "enablePartialDiscounts": application.partial_discounts,
        "loyaltyPrograms": loyalty_programs,
    }
