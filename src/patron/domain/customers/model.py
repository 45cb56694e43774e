"""Customers as the customers API lists, pages and deletes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from patron.domain.people.activity import Activity
from patron.domain.people.profiles import IdentityKey, Profile

MAX_PAGE_SIZE = 100
# The last page a listing goes to (Voucherify's limit): deeper, page with a cursor.
MAX_PAGE = 99


@dataclass(frozen=True, slots=True)
class CustomerView:
    profile: Profile
    identities: list[IdentityKey]
    groups: list[dict[str, Any]]


class CustomerOrder(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    SOURCE_ID = "source_id"


@dataclass(frozen=True, slots=True)
class CustomerQuery:
    """Filters of ``list_customers``; every one is answered by an index."""

    limit: int = 10
    page: int = 1
    email: str | None = None
    city: str | None = None
    name: str | None = None
    segment_id: str | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    updated_before: datetime | None = None
    updated_after: datetime | None = None
    order: CustomerOrder = CustomerOrder.CREATED_AT
    descending: bool = True
    # A created_at cursor: only customers past it in created_at order.
    starting_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class CustomerPage:
    customers: list[Profile]
    total: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class ActivityPage:
    activities: list[Activity]
    has_more: bool


@dataclass(frozen=True, slots=True)
class DeletionReport:
    """What a permanent deletion removed."""

    id: str
    customer_id: str
    created_at: datetime
    customers: int  # the customer, and any profiles once merged into it
    events: int
    activities: int  # the entries their activity listed
    memberships: int
    # What other capabilities erased with the customer, by kind (promotions:
    # sessions, coupon reservations, referrals, loyalty ledger entries…).
    related: dict[str, int] = field(default_factory=dict)
