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

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from patron.domain.activity import ActivityType, new_activity
from patron.domain.async_actions import RowOutcome, RowStatus
from patron.domain.customer_segments import MembershipCache
from patron.domain.errors import Invalid, Problem
from patron.domain.identity import IdentityResolver
from patron.domain.ports import Unit
from patron.domain.profiles import Profile

CSV_IMPORT = "CUSTOMERS_IMPORT_CSV"
BULK_UPDATE = "CUSTOMERS_BULK_UPDATE"
METADATA_UPDATE = "CUSTOMERS_METADATA_UPDATE"

MAX_TEXT = 1000
TEXT_FIELDS = ("name", "email", "phone", "description")
ADDRESS_FIELDS = ("line_1", "line_2", "postal_code", "city", "state", "country")
# The seed's standard CSV columns (case-insensitive); every other column is metadata.
CSV_COLUMNS = {
    "id": ("id",),
    "source_id": ("source_id",),
    "name": ("fields", "name"),
    "email": ("fields", "email"),
    "phone": ("fields", "phone"),
    "birthdate": ("fields", "birthdate"),
    "birthday": ("fields", "birthdate"),
    "description": ("fields", "description"),
    **{f"address_{part}": ("address", part) for part in ADDRESS_FIELDS},
}


# -- reading requests ------------------------------------------------------------


def rows_from_csv(data: bytes) -> list[dict[str, Any]]:
    """The rows of a CSV file (header line first); a bad row becomes an error row.

    Raises Invalid when the file as a whole is unusable (not UTF-8, no header).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.of([Problem("must be a UTF-8 CSV file", "file")]) from None
    if "\x00" in text:
        raise Invalid.of([Problem("must not contain NUL characters", "file")])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid.of(
            [Problem("is empty: the first line must name the columns", "file")]
        ) from None
    except csv.Error as error:
        raise Invalid.of([Problem(f"is not valid CSV: {error}", "file")]) from None
    names = [name.strip() for name in header]
    if not any(names) or len({n.lower() for n in names}) != len(names):
        raise Invalid.of([Problem("the header must name each column once", "file")])
    return list(_csv_rows(reader, names))


def _csv_rows(reader: Iterator[list[str]], names: list[str]) -> Iterator[dict[str, Any]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield {"error": f"line {reader.line_num}: not valid CSV: {error}"}  # type: ignore[attr-defined]
            return
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(cells) > len(names):
            yield {"error": f"has {len(cells)} cells but the header names {len(names)} columns"}
            continue
        yield _csv_row(dict(zip(names, cells, strict=False)))


def _csv_row(cells: Mapping[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {"fields": {}, "metadata": {}}
    address: dict[str, str] = {}
    for name, raw in cells.items():
        value = raw.strip()
        if not value:
            continue
        target = CSV_COLUMNS.get(name.lower())
        if target is None:
            row["metadata"][name] = value
        elif target[0] == "fields":
            row["fields"][target[1]] = value
        elif target[0] == "address":
            address[target[1]] = value
        else:
            row[target[0]] = value
    if address:
        row["fields"]["address"] = address
    return _checked(row)


def rows_from_bulk_update(body: Any) -> list[dict[str, Any]]:
    """Voucherify's bulk update body: a list of customer objects, each with a source_id."""
    if not isinstance(body, list):
        raise Invalid.of([Problem("must be a list of customers", "body")])
    problems: list[Problem] = []
    rows = []
    for index, item in enumerate(body):
        row, found = customer_row(item, f"[{index}].", properties=BULK_PROPERTIES)
        if isinstance(item, dict) and item.get("source_id") is None:
            found.append(Problem("is required", f"[{index}].source_id"))
        problems.extend(found)
        rows.append(row)
    if problems:
        raise Invalid.of(problems)
    return rows


# What a customer object of Voucherify's API may hold.
BULK_PROPERTIES = frozenset(
    {"source_id", *TEXT_FIELDS, "birthdate", "birthday", "address", "metadata"}
)
CUSTOMER_PROPERTIES = BULK_PROPERTIES | {"id"}


def customer_row(
    item: Any, prefix: str = "", *, properties: frozenset[str] = CUSTOMER_PROPERTIES
) -> tuple[dict[str, Any], list[Problem]]:
    """One Voucherify customer object as a row, and what is wrong with it.

    Absent properties change nothing; ``null`` clears a field (or removes a
    metadata key, or an address part). ``birthday`` is the older name of
    ``birthdate``. Problems name the property, prefixed by ``prefix``.
    """
    if not isinstance(item, dict):
        return {"error": "must be an object"}, [Problem("must be an object", prefix.rstrip("."))]
    problems = [
        Problem("is not a customer property", prefix + key)
        for key in sorted(set(item) - properties)
    ]
    fields = {key: item[key] for key in (*TEXT_FIELDS, "address") if key in item}
    for name in ("birthday", "birthdate"):  # birthdate wins when both are sent
        if name in item:
            fields["birthdate"] = item[name]
    row = {
        **{key: item[key] for key in ("id", "source_id") if item.get(key) is not None},
        "fields": fields,
        "metadata": item.get("metadata") if item.get("metadata") is not None else {},
    }
    problem = _problem(row)
    if problem is not None:
        problems.append(Problem(problem[1], prefix + problem[0]))
    return (row if not problems else {"error": problems[0].describe()}), problems


def rows_from_metadata_update(body: Any) -> list[dict[str, Any]]:
    """Voucherify's metadata bulk update: the same metadata for every listed source_id."""
    if not isinstance(body, dict):
        raise Invalid.of([Problem("must be an object", "body")])
    source_ids, metadata = body.get("source_ids"), body.get("metadata")
    problems: list[Problem] = []
    if not isinstance(source_ids, list) or not source_ids:
        problems.append(Problem("must be a non-empty list of source ids", "source_ids"))
    elif not all(isinstance(s, str) and 0 < len(s) <= MAX_TEXT for s in source_ids):
        problems.append(Problem(f"must hold strings of 1 to {MAX_TEXT} characters", "source_ids"))
    if not isinstance(metadata, dict) or not metadata:
        problems.append(Problem("must be a non-empty object", "metadata"))
    if problems:
        raise Invalid.of(problems)
    assert isinstance(source_ids, list)
    assert isinstance(metadata, dict)
    return [{"source_id": s, "fields": {}, "metadata": metadata} for s in source_ids]


def _checked(row: dict[str, Any]) -> dict[str, Any]:
    """The row itself, or an error row saying what is wrong with it."""
    problem = _problem(row)
    if problem is None:
        return row
    return {"error": " ".join(problem), "source_id": _text_or_none(row.get("source_id"))}


def _problem(row: Mapping[str, Any]) -> tuple[str, str] | None:
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
    if not isinstance(row["metadata"], dict):
        return "metadata", "must be an object"
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
    unit: Unit,
    workspace_id: str,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    memberships: MembershipCache | None = None,
) -> list[RowOutcome]:
    """Apply a chunk of rows in the open transaction; one outcome per row.

    With ``memberships``, the customers changed are re-evaluated against the
    workspace's customer segments.
    """
    resolver = IdentityResolver(unit, workspace_id, now)
    usable = [row for row in rows if "error" not in row]
    resolver.prefetch_users({row["source_id"] for row in usable if row.get("source_id")})
    resolver.preload([row["id"] for row in usable if row.get("id")])
    resolver.preload(resolver.owners.values())
    outcomes = [_apply(resolver, row) for row in rows]
    membership = memberships.current(unit, workspace_id) if memberships else None
    touched = resolver.touched() if membership else []
    resolver.flush()
    if membership and touched:
        membership.refresh(unit, touched, now)
    # customer.created needs no record: the activity list reads it from the customer.
    updated = [
        new_activity(
            workspace_id,
            outcome.customer_id,
            ActivityType.UPDATED,
            {"customer": {"id": outcome.customer_id, "source_id": outcome.source_id}},
            now,
        )
        for outcome in outcomes
        if outcome.status is RowStatus.UPDATED and outcome.customer_id is not None
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
