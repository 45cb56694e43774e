"""Customer activity: what happened to a customer, newest first (or oldest first).

Three sources make one list, so the tracking hot path writes nothing extra:
``customer.created`` comes from the customer itself, ``customer.custom_event``
from every event tracked for the customer, and the rest (updated and deleted
through the customers API, segment entered/left) from stored activity records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from patron.ids import new_id

MAX_LIMIT = 100


class ActivityType(StrEnum):
    """Voucherify's names for the customer activity Patron records."""

    CREATED = "customer.created"
    UPDATED = "customer.updated"
    DELETED = "customer.deleted"
    CUSTOM_EVENT = "customer.custom_event"
    SEGMENT_ENTERED = "customer.segment.entered"
    SEGMENT_LEFT = "customer.segment.left"


# Voucherify's two categories: what the customer did, and what followed from it.
EFFECTS = frozenset({ActivityType.SEGMENT_ENTERED, ActivityType.SEGMENT_LEFT})
ACTIONS = frozenset(ActivityType) - EFFECTS


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    workspace_id: str
    customer_id: str
    type: str
    data: dict[str, Any]
    created_at: datetime


def new_activity(
    workspace_id: str, customer_id: str, type_: ActivityType, data: dict[str, Any], now: datetime
) -> Activity:
    return Activity(new_id("act"), workspace_id, customer_id, type_.value, data, now)


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """Which activity to list: ``types`` None means every type."""

    limit: int = 10
    descending: bool = True
    starting_after_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    types: frozenset[str] | None = field(default=None)
