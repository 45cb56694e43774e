"""Customer profiles: standard fields, free-form attributes and identities.

Segment's reserved traits map onto the standard profile fields (the fields
every surface shares); every other trait is a free-form attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class IdentityKind(StrEnum):
    USER_ID = "user_id"  # Segment userId = Talon.One integrationId = Voucherify source_id
    ANONYMOUS_ID = "anonymous_id"


IdentityKey = tuple[IdentityKind, str]


# Segment reserved trait -> standard profile field.
STANDARD_TRAITS: dict[str, str] = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "birthday": "birthdate",
    "address": "address",
    "description": "description",
}
PROFILE_TO_TRAIT = {value: key for key, value in STANDARD_TRAITS.items()}
STANDARD_FIELDS = tuple(STANDARD_TRAITS.values())
# The longest birthdate the standard field keeps, as the store's column does (an
# ISO 8601 date-time with an offset is 32 characters); a longer ``birthday`` trait
# is kept as an attribute.
MAX_BIRTHDATE = 40


@dataclass(slots=True)
class Profile:
    """One customer as the domain sees it."""

    id: str
    workspace_id: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthdate: str | None = None
    address: dict[str, Any] | None = None
    description: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    merged_into: str | None = None
    deleted_at: datetime | None = None  # deleted through the customers API

    def traits(self) -> dict[str, Any]:
        """The profile in Segment's terms: attributes plus the reserved traits that are set."""
        traits = dict(self.attributes)
        for profile_field, trait in PROFILE_TO_TRAIT.items():
            value = getattr(self, profile_field)
            if value is not None:
                traits[trait] = value
        return traits

    def apply_traits(self, traits: dict[str, Any], *, now: datetime) -> bool:
        """Merge Segment traits into the profile; return whether anything changed.

        ``null`` means absent (it never erases), as everywhere on the tracking API.
        ``name`` is composed from ``firstName``/``lastName`` when not sent itself.
        A ``birthday`` too long to be a date stays a free-form attribute.
        """
        changed = False
        for trait, value in traits.items():
            if value is None:
                continue
            target = STANDARD_TRAITS.get(trait)
            if target == "birthdate" and len(_coerce_standard(target, value)) > MAX_BIRTHDATE:
                target = None  # no birthdate, but the client's data all the same
            if target is None:
                if self.attributes.get(trait, _MISSING) != value:
                    self.attributes[trait] = value
                    changed = True
            elif getattr(self, target) != (coerced := _coerce_standard(target, value)):
                setattr(self, target, coerced)
                changed = True
        if "name" not in traits and self.name is None:
            full = " ".join(
                str(traits[part]) for part in ("firstName", "lastName") if traits.get(part)
            )
            if full:
                self.name = full
                changed = True
        if changed:
            self.updated_at = now
        return changed

    def absorb(self, other: Profile, *, now: datetime) -> None:
        """Fill this profile's gaps from ``other``, which is being merged into it.

        The surviving profile's own values win; the merged one only fills gaps.
        """
        for profile_field in STANDARD_FIELDS:
            if getattr(self, profile_field) is None:
                setattr(self, profile_field, getattr(other, profile_field))
        self.attributes = {**other.attributes, **self.attributes}
        self.created_at = min(self.created_at, other.created_at)
        self.updated_at = now


_MISSING = object()


def _coerce_standard(profile_field: str, value: Any) -> Any:
    if profile_field == "address":
        return value if isinstance(value, dict) else {"street": str(value)}
    return value if isinstance(value, str) else str(value)
