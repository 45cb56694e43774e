"""Talon.One's JSON shapes, shared by both of its APIs.

Nested objects carry the union of the fields every SDK version requires
(a field one version added as required must be there for that version to
read the answer at all). Integers stay integers; times are RFC 3339 in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions.model import Application
from patron.domain.promotions.profiles import talon_profile_id


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


def customer_profile(
    *,
    workspace_id: str,
    integration_id: str,
    created: datetime | None,
    attributes: Mapping[str, Any],
    account_id: int,
    closed_sessions: int = 0,
    total_sales: Decimal = Decimal(0),
    last_activity: datetime | None = None,
    audiences: Iterable[tuple[int, str]] = (),
    loyalty: Iterable[tuple[int, datetime | None]] = (),
) -> dict[str, Any]:
    """Talon's ``CustomerProfile``, wherever one is shown (profile updates, sessions,
    events, inventories, reservation holders): one id (:func:`talon_profile_id`),
    one set of fields."""
    shown = moment(created) or moment(datetime.fromtimestamp(0, UTC))
    return {
        "id": talon_profile_id(workspace_id, integration_id),
        "created": shown,
        "integrationId": integration_id,
        "attributes": dict(attributes),  # never null
        "accountId": account_id,
        "closedSessions": closed_sessions,
        "totalSales": number(total_sales),
        "lastActivity": moment(last_activity) or shown,
        "audienceMemberships": [{"id": id_, "name": name} for id_, name in audiences],
        "loyaltyMemberships": [
            {"loyaltyProgramId": program_id, **({"joined": moment(joined)} if joined else {})}
            for program_id, joined in loyalty
        ],
        "sandbox": False,
    }
