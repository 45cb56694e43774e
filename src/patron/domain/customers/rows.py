"""Bulk customer changes: CSV imports and bulk updates, applied as async actions.

Every source of bulk changes is turned into the same row shape first — a
plain dict, so a job's input can be stored as JSON and resumed after a
restart::

    {"id": "cust_…" | None, "source_id": "…" | None,
     "fields": {"name": …, "email": …, "phone": …, "birthdate": …,
                "address": {…}, "description": …},
     "metadata": {…}}

or ``{"error": "why this row cannot be applied"}``. Rows are applied in
chunks by :func:`apply_customer_rows`, the async-action handler: a row with
an ``id`` updates that customer; one with a ``source_id`` updates the
customer with that id (the tracking API's ``userId``) or creates it; one
with neither creates a customer. Given fields replace the customer's;
metadata keys are merged into its attributes; absent or empty values change
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from patron.domain.customers.ports import CustomerRowsUnit
from patron.domain.documents import deeper_than
from patron.domain.jobs.model import RowOutcome, RowStatus
from patron.domain.people.activity import ActivityType, new_activity
from patron.domain.people.identity import IdentityResolver
from patron.domain.people.profiles import Profile

CSV_IMPORT = "CUSTOMERS_IMPORT_CSV"
BULK_UPDATE = "CUSTOMERS_BULK_UPDATE"
METADATA_UPDATE = "CUSTOMERS_METADATA_UPDATE"

MAX_TEXT = 1000
# How deep metadata may nest (the metadata object is level 1). Stored JSON cannot
# nest beyond 254 levels; metadata a client means to send is far flatter than this.
MAX_METADATA_DEPTH = 32
TEXT_FIELDS = ("name", "email", "phone", "description")
ADDRESS_FIELDS = ("line_1", "line_2", "postal_code", "city", "state", "country")


def checked(row: dict[str, Any]) -> dict[str, Any]:
    """The row itself, or an error row saying what is wrong with it."""
    problem = row_problem(row)
    if problem is None:
        return row
    return {"error": " ".join(problem), "source_id": _text_or_none(row.get("source_id"))}


def row_problem(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first thing wrong with a row: (property, what is wrong)."""
    for key in ("id", "source_id"):
        value = row.get(key)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT):
            return key, f"must be a string of 1 to {MAX_TEXT} characters"
    fields = row["fields"]
    for key in TEXT_FIELDS:
        value = fields.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            return key, f"must be a string of at most {MAX_TEXT} characters"
    birthdate = fields.get("birthdate")
    if birthdate is not None and not _is_date(birthdate):
        return "birthdate", "must be a date, YYYY-MM-DD"
    address = fields.get("address")
    if address is not None and (
        not isinstance(address, dict)
        or not all(
            k in ADDRESS_FIELDS and (v is None or isinstance(v, str)) for k, v in address.items()
        )
    ):
        return "address", f"must be an object of strings: {', '.join(ADDRESS_FIELDS)}"
    return metadata_problem(row["metadata"])


def metadata_problem(metadata: Any) -> tuple[str, str] | None:
    """What is wrong with a row's metadata, if anything: ("metadata", what)."""
    if not isinstance(metadata, dict):
        return "metadata", "must be an object"
    if deeper_than(metadata, MAX_METADATA_DEPTH):
        return "metadata", f"must nest at most {MAX_METADATA_DEPTH} levels deep"
    return None


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- applying rows ---------------------------------------------------------------


def apply_customer_rows(
    unit: CustomerRowsUnit,
    workspace_id: str,
    rows: Sequence[dict[str, Any]],
    now: datetime,
) -> list[RowOutcome]:
    """Apply a chunk of rows in the open transaction; one outcome per row (a job's handler)."""
    resolver = IdentityResolver(unit, workspace_id, now)
    usable = [row for row in rows if "error" not in row]
    resolver.prefetch_users({row["source_id"] for row in usable if row.get("source_id")})
    resolver.preload([row["id"] for row in usable if row.get("id")])
    resolver.preload(resolver.owners.values())
    outcomes = [_apply(resolver, row) for row in rows]
    resolver.commit()  # customer segments follow the changed profiles (a listener)
    # customer.created needs no record: the activity list reads it from the customer.
    updated = [
        new_activity(
            workspace_id,
            outcome.record_id,
            ActivityType.UPDATED,
            {"customer": {"id": outcome.record_id, "source_id": outcome.record_key}},
            now,
        )
        for outcome in outcomes
        if outcome.status is RowStatus.UPDATED and outcome.record_id is not None
    ]
    if updated:
        unit.add_activities(updated)
    return outcomes


def _apply(resolver: IdentityResolver, row: dict[str, Any]) -> RowOutcome:
    source_id = row.get("source_id")
    if "error" in row:
        return _failed("invalid_row", row["error"], source_id)
    customer_id = row.get("id")
    created = False
    if customer_id is not None:
        profile = resolver.profiles.get(customer_id)
        if profile is None or profile.merged_into is not None or profile.deleted_at is not None:
            return _failed("not_found", f"no customer {customer_id!r}", source_id)
        if source_id is not None and profile.external_id != source_id:
            owner = resolver.owner_of_user(source_id)
            if profile.external_id is not None or owner not in (None, customer_id):
                return _failed(
                    "conflict", f"source_id {source_id!r} is another customer's", source_id
                )
            resolver.give_user_id(customer_id, source_id)
    else:
        customer_id, created = resolver.customer_for_user(source_id)
        profile = resolver.profile(customer_id)
    apply_fields(profile, row["fields"], row["metadata"])
    resolver.changed(profile)
    status = RowStatus.CREATED if created else RowStatus.UPDATED
    return RowOutcome(status, customer_id, profile.external_id)


# Voucherify's address parts that replace a Segment address trait's own name.
_SEGMENT_ADDRESS_NAMES = {"line_1": "street", "postal_code": "postalCode"}


def apply_fields(profile: Profile, fields: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
    """Set standard fields (None clears), merge address parts and metadata (None removes)."""
    for key, value in fields.items():
        if key == "address" and value is not None:
            setattr(profile, key, _merged_address(profile.address, value))
        else:
            setattr(profile, key, value)
    for key, value in metadata.items():
        if value is None:
            profile.attributes.pop(key, None)
        else:
            profile.attributes[key] = value


def _merged_address(
    current: dict[str, Any] | None, parts: Mapping[str, Any]
) -> dict[str, Any] | None:
    address = dict(current or {})
    for part, value in parts.items():
        address.pop(_SEGMENT_ADDRESS_NAMES.get(part, part), None)
        if value is None:
            address.pop(part, None)
        else:
            address[part] = value
    return address or None


def _failed(code: str, message: str, source_id: str | None) -> RowOutcome:
    return RowOutcome(RowStatus.FAILED, None, source_id, {"code": code, "message": message})
