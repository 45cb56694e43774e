"""Voucherify's JSON shapes and query parameters <-> the domain's objects.

The shapes are those of the official ``voucherify`` SDK's models (6.x), which
validate types and enum values strictly: a customer is ``object: "customer"``,
dates are ISO 8601, ``birthdate`` is a plain date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from patron.domain.customers.model import CustomerOrder, CustomerQuery, DeletionReport
from patron.domain.errors import Invalid, Problem
from patron.domain.jobs.model import AsyncAction, RowResult, RowStatus
from patron.domain.people.activity import ACTIONS, EFFECTS, Activity, ActivityQuery
from patron.domain.people.profiles import Profile
from patron.domain.segments.customers.model import CustomerSegment
from patron.surfaces.http.numbers import whole_number

# Voucherify's address parts, and the Segment address trait each may come from.
ADDRESS_PARTS = {
    "city": "city",
    "state": "state",
    "line_1": "street",
    "line_2": None,
    "country": "country",
    "postal_code": "postalCode",
}
SUMMARY = {
    "redemptions": {
        "total_redeemed": 0,
        "total_failed": 0,
        "total_succeeded": 0,
        "total_rolled_back": 0,
        "total_rollback_failed": 0,
        "total_rollback_succeeded": 0,
        "gift": {"redeemed_amount": 0, "amount_to_go": 0},
        "loyalty_card": {"redeemed_points": 0, "points_to_go": 0},
    },
    "orders": {"total_amount": 0, "total_count": 0, "average_amount": 0, "last_order_amount": 0},
}


def moment(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the microsecond (Voucherify writes milliseconds).

    Patron keeps microseconds, and a ``created_at`` handed back as a
    ``starting_after`` cursor must name exactly the customer it came from.
    """
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def customer_json(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "source_id": profile.external_id,
        "name": profile.name,
        "description": profile.description,
        "email": profile.email,
        "phone": profile.phone,
        "birthdate": _plain_date(profile.birthdate),
        "address": _address(profile.address),
        "metadata": profile.attributes,
        "summary": SUMMARY,
        "loyalty": {"points": 0, "referred_customers": 0, "campaigns": {}},
        "referrals": {"total": 0, "campaigns": []},
        "system_metadata": {},
        "created_at": moment(profile.created_at),
        "updated_at": moment(profile.updated_at),
        "object": "customer",
    }


def _plain_date(value: str | None) -> str | None:
    """A birthdate the SDK can read (the tracking API may have stored a full timestamp)."""
    if value is None or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def _address(address: Mapping[str, Any] | None) -> dict[str, str | None] | None:
    if not address:
        return None
    parts = {}
    for part, segment_name in ADDRESS_PARTS.items():
        value = address.get(part, address.get(segment_name) if segment_name else None)
        parts[part] = value if isinstance(value, str) else None
    return parts


def segment_json(segment: CustomerSegment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "name": segment.name,
        "created_at": moment(segment.created_at),
        "updated_at": moment(segment.updated_at),
        "type": segment.type.value,
        "filter": segment.filter,
        "object": "segment",
        "initial_sync_status": "DONE",  # the backfill commits with the segment
    }


def deletion_json(report: DeletionReport) -> dict[str, Any]:
    return {
        "id": report.id,
        "created_at": moment(report.created_at),
        "related_object_id": report.customer_id,
        "related_object": "customer",
        "status": "DONE",
        "data_json": {
            "events": report.events,
            "customer_events": report.activities,
            "daily_events": 0,
            "segments": report.memberships,
            "orders": 0,
            "order_events": 0,
            "customer": report.customers,
            # What went with the customer in other capabilities (promotions: sessions,
            # coupon reservations, referrals, loyalty ledger entries…), by kind.
            **report.related,
        },
        "object": "pernament_deletion",  # sic: what Voucherify (and its SDKs) answer
    }


def activity_json(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "type": activity.type,
        "data": activity.data,
        "created_at": moment(activity.created_at),
        "group_id": None,
    }


def async_action_json(action: AsyncAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "type": action.type,
        "status": action.status.value,
        "operation_status": action.operation_status.value if action.operation_status else None,
        "created_at": moment(action.created_at),
        "updated_at": moment(action.updated_at),
        "request_id": action.request_id,
        "processing_time": action.processing_time_ms,
        "progress": action.progress,
        "object": "async_action",
    }


def async_action_result(action: AsyncAction, results: list[RowResult]) -> dict[str, Any]:
    """The per-row report: Voucherify's ``found``/``updated`` plus Patron's status and reason."""
    return {**async_action_summary(action), "results": [result_json(r) for r in results]}


def async_action_summary(action: AsyncAction) -> dict[str, Any]:
    """The report without its rows (``results``, which comes last)."""
    done = action.processed - action.failed
    return {
        "message": f"{done} of {action.total} rows applied, {action.failed} failed",
        "count": action.processed,
        "done_count": done,
        "failed_count": action.failed,
    }


def result_json(result: RowResult) -> dict[str, Any]:
    """One row of the report."""
    outcome = result.outcome
    row: dict[str, Any] = {
        "row": result.row,
        "status": outcome.status.value,
        "id": outcome.record_id,
        "source_id": outcome.record_key,
        "found": outcome.status is RowStatus.UPDATED,
        "updated": outcome.status is not RowStatus.FAILED,
    }
    if outcome.error is not None:
        row["reason"] = outcome.error.get("message")
        row["reason_code"] = outcome.error.get("code")
    return row


# -- query parameters ----------------------------------------------------------------


class Query:
    """Reads a request's query parameters, collecting every problem before refusing."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params
        self.problems: list[Problem] = []

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else None

    def integer(self, name: str, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        number = whole_number(value)
        if number is None:
            self.problems.append(Problem("must be a whole number", name))
            return default
        return number

    def moment(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
            # In UTC, as it is compared: 9999-12-31T23:59-01:00 is past the year 9999.
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            self.problems.append(Problem("must be an ISO 8601 date or date-time", name))
            return None

    def choice(self, name: str, allowed: frozenset[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            self.problems.append(Problem(f"must be one of {', '.join(sorted(allowed))}", name))
            return None
        return value

    def check(self) -> None:
        if self.problems:
            raise Invalid.of(self.problems)


_CUSTOMER_ORDERS = frozenset(
    prefix + order.value for order in CustomerOrder for prefix in ("", "-")
)


def customer_query(params: Mapping[str, str]) -> CustomerQuery:
    query = Query(params)
    order = query.choice("order", _CUSTOMER_ORDERS) or "-created_at"
    found = CustomerQuery(
        limit=query.integer("limit", 10),
        page=query.integer("page", 1),
        email=query.text("email"),
        city=query.text("city"),
        name=query.text("name"),
        segment_id=query.text("segment_id"),
        created_before=query.moment("created_at[before]"),
        created_after=query.moment("created_at[after]"),
        updated_before=query.moment("updated_at[before]"),
        updated_after=query.moment("updated_at[after]"),
        order=CustomerOrder(order.removeprefix("-")),
        descending=order.startswith("-"),
        starting_after=query.moment("starting_after"),
    )
    query.check()
    return found


_ACTIVITY_ORDERS = frozenset({"created_at", "-created_at"})
_CATEGORIES = {"ACTION": ACTIONS, "EFFECT": EFFECTS}


def activity_query(params: Mapping[str, str], *, deprecated: bool = False) -> ActivityQuery:
    """``list_customer_activity``'s parameters (``deprecated``: the older ``/activities``)."""
    query = Query(params)
    descending = (query.choice("order", _ACTIVITY_ORDERS) or "-created_at").startswith("-")
    start, end = query.moment("start_date"), query.moment("end_date")
    if deprecated:  # its starting_after is a date-time cursor
        after = query.moment("starting_after")
        if after is not None and descending:
            end = after if end is None else min(end, after)
        elif after is not None:
            start = after if start is None else max(start, after)
    types: frozenset[str] | None = None
    kind = query.text("type")
    if kind is not None:
        if not kind.startswith("customer."):
            query.problems.append(Problem("must be a customer event, customer.…", "type"))
        types = frozenset({kind})
    category = query.choice("category", frozenset(_CATEGORIES))
    if category is not None:
        allowed = frozenset(str(t) for t in _CATEGORIES[category])
        types = allowed if types is None else types & allowed
    if query.text("campaign_id") or query.text("campaign_type") or query.text("product_id"):
        types = frozenset()  # no activity of Patron's concerns a campaign or product
    found = ActivityQuery(
        limit=query.integer("limit", 10),
        descending=descending,
        starting_after_id=query.text("starting_after_id"),
        start=start,
        end=end,
        types=types,
    )
    query.check()
    return found
