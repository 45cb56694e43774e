"""How a ``coupons`` row reads and writes (shared by the coupon and redemption queries)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from patron.domain.promotions.coupon_model import CouponTerms, StoredCoupon
from patron.store.promotions.tables import coupon_reservations, coupons


def reservation_count() -> Any:
    return (
        select(func.count())
        .where(coupon_reservations.c.coupon_id == coupons.c.id)
        .scalar_subquery()
        .label("reservation_counter")
    )


def selected() -> Select[Any]:
    return select(coupons, reservation_count())


def terms_values(terms: CouponTerms) -> dict[str, Any]:
    return {
        "usage_limit": terms.usage_limit,
        "discount_limit": terms.discount_limit,
        "per_profile_limit": terms.per_profile_limit,
        "reservation_limit": terms.reservation_limit,
        "start_date": terms.start_date,
        "expiry_date": terms.expiry_date,
        "recipient_integration_id": terms.recipient_integration_id or None,
        "attributes": dict(terms.attributes),
        "is_reservation_mandatory": int(terms.is_reservation_mandatory),
        "implicitly_reserved": int(terms.implicitly_reserved),
    }


def stored(row: Any) -> StoredCoupon:
    terms = CouponTerms(
        usage_limit=row["usage_limit"],
        discount_limit=row["discount_limit"],
        reservation_limit=row["reservation_limit"],
        per_profile_limit=row["per_profile_limit"],
        start_date=row["start_date"],
        expiry_date=row["expiry_date"],
        recipient_integration_id=row["recipient_integration_id"] or "",
        attributes=row["attributes"],
        is_reservation_mandatory=bool(row["is_reservation_mandatory"]),
        implicitly_reserved=bool(row["implicitly_reserved"]),
    )
    return StoredCoupon(
        id=row["id"],
        application_id=row["application_id"],
        campaign_id=row["campaign_id"],
        value=row["value"],
        terms=terms,
        usage_counter=row["usage_counter"],
        discount_counter=row["discount_counter"],
        reservation_counter=int(row.get("reservation_counter") or 0),
        batch_id=row["batch_id"] or "",
        created_at=row["created_at"],
    )
