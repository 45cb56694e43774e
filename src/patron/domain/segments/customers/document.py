"""The profile document: a customer as segment filters see it (the store builds the same in SQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from patron.domain.criteria.dates import to_millisecond
from patron.domain.people.profiles import Profile

# Fields a filter may name; ``metadata.…`` and ``address.…`` name parts of those.
PROFILE_FIELDS = frozenset(
    {
        "id",
        "source_id",
        "name",
        "email",
        "phone",
        "birthdate",
        "description",
        "created_at",
        "updated_at",
    }
)
# Fields relative dates ($less_than_ago, $more_than_ago) apply to: the sweep
# finds the customers whose date crossed a window's edge through an index.
DATE_FIELDS = frozenset({"birthdate", "created_at", "updated_at"})
ADDRESS_FIELDS = ("city", "state", "line_1", "line_2", "country", "postal_code")
_SEGMENT_ADDRESS_NAMES = {"line_1": "street", "postal_code": "postalCode"}


def profile_document(profile: Profile) -> dict[str, Any]:
    """The record filters are evaluated against (the store builds the same one in SQL)."""
    address = profile.address or {}
    return {
        "id": profile.id,
        "source_id": profile.external_id,
        "name": profile.name,
        "email": profile.email,
        "phone": profile.phone,
        "birthdate": profile.birthdate,
        "description": profile.description,
        "address": {part: address_part(address, part) for part in ADDRESS_FIELDS},
        "metadata": profile.attributes,
        "created_at": _stamp(profile.created_at),
        "updated_at": _stamp(profile.updated_at),
    }


def _stamp(moment: datetime) -> str:
    """ISO 8601 in UTC to the millisecond: the date format criteria compare."""
    return to_millisecond(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def address_part(address: Mapping[str, Any], part: str) -> Any:
    """A Voucherify address part, read from either spelling Patron may hold."""
    value = address.get(part)
    if value is None and part in _SEGMENT_ADDRESS_NAMES:
        value = address.get(_SEGMENT_ADDRESS_NAMES[part])
    return value
