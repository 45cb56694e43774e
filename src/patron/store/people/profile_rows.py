"""Profiles to rows and back: the customers table as the domain sees it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, update

from patron.domain.people.profiles import Profile
from patron.store.schema import customers


def profile_from_row(row: Any) -> Profile:
    return Profile(
        id=row["id"],
        workspace_id=row["workspace_id"],
        external_id=row["external_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        birthdate=row["birthdate"],
        address=row["address"],
        description=row["description"],
        attributes=dict(row["attributes"] or {}),
        merged_into=row["merged_into"],
        deleted_at=row["deleted_at"],
    )


PROFILE_UPDATE = (
    update(customers)
    .where(customers.c.id == bindparam("_id"))
    .values(
        {
            column.name: bindparam(column.name)
            for column in customers.c
            if column.name not in ("id", "workspace_id")
        }
    )
)


def profile_row(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "workspace_id": profile.workspace_id,
        "external_id": profile.external_id,
        "name": profile.name,
        "email": profile.email,
        "phone": profile.phone,
        "birthdate": profile.birthdate,
        "address": profile.address,
        "description": profile.description,
        "attributes": profile.attributes,
        "merged_into": profile.merged_into,
        "deleted_at": profile.deleted_at,
        "city": _city(profile.address),
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
    }


def _city(address: dict[str, Any] | None) -> str | None:
    city = address.get("city") if isinstance(address, dict) else None
    return city if isinstance(city, str) else None
