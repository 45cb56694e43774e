"""Coupons as the Management API and reservations see them: terms, counters, queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions import model

ZERO = Decimal(0)
MAX_LIMIT = 999_999  # Talon's usageLimit and reservationLimit
MAX_DISCOUNT = Decimal("1E+15")
MAX_INTEGRATION_ID = 1000


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What a coupon allows; every limit 0 means unlimited."""

    usage_limit: int = 1
    discount_limit: Decimal = ZERO
    reservation_limit: int = 0
    per_profile_limit: int = 0  # Talon's limits [{action redeemCoupon, entities [Profile]}]
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient_integration_id: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    is_reservation_mandatory: bool = False
    implicitly_reserved: bool = False

    def problems(self) -> list[Problem]:
        found = []
        if not 0 <= self.usage_limit <= MAX_LIMIT:
            found.append(Problem(f"0 (unlimited) to {MAX_LIMIT}", "usageLimit"))
        if not 0 <= self.reservation_limit <= MAX_LIMIT:
            found.append(Problem(f"0 (unlimited) to {MAX_LIMIT}", "reservationLimit"))
        if not ZERO <= self.discount_limit <= MAX_DISCOUNT:
            found.append(Problem("0 (unlimited) to 1E+15", "discountLimit"))
        if not 0 <= self.per_profile_limit <= MAX_LIMIT:
            found.append(Problem(f"0 (unlimited) to {MAX_LIMIT}", "limits.0.limit"))
        if self.start_date and self.expiry_date and self.expiry_date <= self.start_date:
            found.append(Problem("after startDate", "expiryDate"))
        if len(self.recipient_integration_id) > MAX_INTEGRATION_ID:
            found.append(
                Problem(f"at most {MAX_INTEGRATION_ID} characters", "recipientIntegrationId")
            )
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise Invalid.of(problems)


@dataclass(frozen=True, slots=True)
class NewCoupon:
    """One code to store: as made (``value``) and as compared (``lookup``)."""

    value: str
    lookup: str
    recipient_integration_id: str = ""  # overrides the terms' recipient when set


@dataclass(frozen=True, slots=True)
class Batch:
    """What every coupon of one creation shares."""

    application_id: int
    campaign_id: int
    terms: CouponTerms
    batch_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCoupon:
    id: int
    application_id: int
    campaign_id: int
    value: str
    terms: CouponTerms
    usage_counter: int = 0
    discount_counter: Decimal = ZERO
    reservation_counter: int = 0  # customers holding a reservation
    batch_id: str = ""
    created_at: datetime | None = None

    @property
    def discount_remainder(self) -> Decimal:
        limit = self.terms.discount_limit
        return max(limit - self.discount_counter, ZERO) if limit else ZERO


@dataclass(frozen=True, slots=True)
class CreatedBatch:
    """What one creation made: how many codes, their batch, and (unless asked not to) them."""

    batch_id: str
    count: int
    coupons: list[StoredCoupon]


@dataclass(frozen=True, slots=True)
class CouponQuery:
    """Talon's coupon list filters (all optional), a page of them, and the order."""

    application_id: int
    campaign_id: int | None = None
    value: str = ""  # contained, case-insensitively (exact with ``exact_match``)
    exact_match: bool = False
    created_before: datetime | None = None
    created_after: datetime | None = None
    starts_before: datetime | None = None
    starts_after: datetime | None = None
    expires_before: datetime | None = None
    expires_after: datetime | None = None
    valid: str = ""  # expired, validNow, validFuture (at ``now``)
    now: datetime | None = None
    usable: bool | None = None  # usageCounter < usageLimit (or unlimited)
    redeemed: bool | None = None  # usageCounter > 0
    recipient_integration_id: str | None = None
    batch_id: str | None = None
    sort: str = "id"  # id, created, value, expiryDate, startDate; "-" prefix: descending
    skip: int = 0
    limit: int = 1000


VALID_FILTERS = ("expired", "validNow", "validFuture")
SORTS = ("id", "created", "value", "expiryDate", "startDate", "usageCounter")


@dataclass(frozen=True, slots=True)
class ReservedProfile:
    """Someone holding a reservation, and the customer of that id if there is one."""

    integration_id: str
    reserved_at: datetime
    customer_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    closed_sessions: int = 0
    total_sales: Decimal = ZERO


def engine_coupon(
    stored: StoredCoupon, profile_redemptions: int, reserved_by: frozenset[str]
) -> model.Coupon:
    """The rule engine's view of a stored coupon, for one customer."""
    terms = stored.terms
    return model.Coupon(
        id=stored.id,
        code=stored.value,
        campaign_id=stored.campaign_id,
        usage_limit=terms.usage_limit,
        usage_counter=stored.usage_counter,
        discount_limit=terms.discount_limit,
        discount_counter=stored.discount_counter,
        per_profile_limit=terms.per_profile_limit,
        profile_redemptions=profile_redemptions,
        start_date=terms.start_date,
        expiry_date=terms.expiry_date,
        recipient_integration_id=terms.recipient_integration_id,
        attributes=terms.attributes,
        is_reservation_mandatory=terms.is_reservation_mandatory,
        implicitly_reserved=terms.implicitly_reserved,
        reserved_by=reserved_by,
    )
