"""The queries of coupons and their reservations (a mixin of ``SqlUnit``).

Codes go in with one statement per chunk (``executemany``), and collisions
are found with one ``IN`` query per :data:`LOOKUP_CHUNK` codes. The
redemption counters are in :mod:`.coupon_redemptions`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, true, update

from patron.domain.promotions.coupon_model import (
    Batch,
    CouponQuery,
    CouponTerms,
    NewCoupon,
    ReservedProfile,
    StoredCoupon,
)
from patron.store.promotions.coupon_redemptions import RedemptionQueries
from patron.store.promotions.coupon_rows import selected, stored, terms_values
from patron.store.promotions.tables import (
    coupon_redemptions,
    coupon_reservations,
    coupons,
    customer_sessions,
)
from patron.store.schema import customers

LOOKUP_CHUNK = 1000

_SORT_COLUMNS = {
    "id": coupons.c.id,
    "created": coupons.c.created_at,
    "value": coupons.c.value,
    "expiryDate": coupons.c.expiry_date,
    "startDate": coupons.c.start_date,
    "usageCounter": coupons.c.usage_counter,
}


class CouponQueries(RedemptionQueries):
    """Implements :class:`~patron.domain.promotions.coupons.CouponUnit` (with
    ``ApplicationQueries``) and the cross-part redemption functions."""

    def taken_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]:
        wanted = list(lookups)
        taken: set[str] = set()
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            query = select(coupons.c.lookup).where(
                coupons.c.application_id == application_id,
                coupons.c.lookup.in_(wanted[start : start + LOOKUP_CHUNK]),
            )
            taken.update(self.connection.scalars(query))
        return taken

    def insert_coupons(self, batch: Batch, coupons_: Sequence[NewCoupon]) -> None:
        shared = {
            "application_id": batch.application_id,
            "campaign_id": batch.campaign_id,
            "usage_counter": 0,
            "discount_counter": 0,
            "batch_id": batch.batch_id,
            "created_at": batch.created_at,
            **terms_values(batch.terms),
        }
        recipient = shared["recipient_integration_id"]
        rows = [
            {
                **shared,
                "value": coupon.value,
                "lookup": coupon.lookup,
                "recipient_integration_id": coupon.recipient_integration_id or recipient,
            }
            for coupon in coupons_
        ]
        if rows:
            self.connection.execute(insert(coupons), rows)

    def coupons_of_batch(self, application_id: int, batch_id: str) -> list[StoredCoupon]:
        query = (
            selected()
            .where(coupons.c.application_id == application_id, coupons.c.batch_id == batch_id)
            .order_by(coupons.c.id)
        )
        return [stored(row) for row in self.connection.execute(query).mappings()]

    def find_coupon(self, application_id: int, coupon_id: int) -> StoredCoupon | None:
        query = selected().where(
            coupons.c.application_id == application_id, coupons.c.id == coupon_id
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else stored(row)

    def coupon_by_lookup(self, application_id: int, lookup: str) -> StoredCoupon | None:
        query = selected().where(
            coupons.c.application_id == application_id, coupons.c.lookup == lookup
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else stored(row)

    def save_coupon_terms(self, coupon_id: int, terms: CouponTerms) -> None:
        self.connection.execute(
            update(coupons).where(coupons.c.id == coupon_id).values(terms_values(terms))
        )

    def delete_coupons(self, coupon_ids: Collection[int]) -> None:
        ids = list(coupon_ids)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            for table in (coupon_reservations, coupon_redemptions):
                self.connection.execute(delete(table).where(table.c.coupon_id.in_(chunk)))
            self.connection.execute(delete(coupons).where(coupons.c.id.in_(chunk)))

    def query_coupons(self, query: CouponQuery) -> list[StoredCoupon]:
        column = _SORT_COLUMNS[query.sort.removeprefix("-")]
        descending = query.sort.startswith("-")
        order = [column.desc() if descending else column.asc()]
        if column is not coupons.c.id:
            order.append(coupons.c.id.desc() if descending else coupons.c.id.asc())
        statement = (
            selected()
            .where(*_filters(query))
            .order_by(*order)
            .offset(query.skip)
            .limit(query.limit)
        )
        return [stored(row) for row in self.connection.execute(statement).mappings()]

    # -- reservations ------------------------------------------------------------

    def add_reservations(
        self, coupon_id: int, workspace_id: str, integration_ids: Collection[str], now: datetime
    ) -> None:
        rows = [
            {
                "coupon_id": coupon_id,
                "integration_id": integration_id,
                "workspace_id": workspace_id,
                "created_at": now,
            }
            for integration_id in integration_ids
        ]
        if rows:
            self.connection.execute(self._insert_ignoring_conflicts(coupon_reservations), rows)

    def remove_reservations(self, coupon_id: int, integration_ids: Collection[str]) -> None:
        self.connection.execute(
            delete(coupon_reservations).where(
                coupon_reservations.c.coupon_id == coupon_id,
                coupon_reservations.c.integration_id.in_(list(integration_ids)),
            )
        )

    def reserved_profiles(self, coupon_id: int, workspace_id: str) -> list[ReservedProfile]:
        holder = coupon_reservations.c.integration_id
        closed = and_(
            customer_sessions.c.workspace_id == workspace_id,
            customer_sessions.c.profile_integration_id == holder,
            customer_sessions.c.state == "closed",
        )
        query = (
            select(
                holder,
                coupon_reservations.c.created_at.label("reserved_at"),
                customers.c.id,
                customers.c.created_at,
                customers.c.updated_at,
                customers.c.attributes,
                select(func.count()).where(closed).scalar_subquery().label("closed_sessions"),
                select(func.coalesce(func.sum(customer_sessions.c.total), 0))
                .where(closed)
                .scalar_subquery()
                .label("total_sales"),
            )
            .select_from(
                coupon_reservations.outerjoin(
                    customers,
                    and_(
                        customers.c.workspace_id == workspace_id,
                        customers.c.external_id == holder,
                        customers.c.merged_into.is_(None),
                    ),
                )
            )
            .where(coupon_reservations.c.coupon_id == coupon_id)
            .order_by(coupon_reservations.c.created_at, holder)
        )
        return [_holder(row) for row in self.connection.execute(query).mappings()]


def _holder(row: Any) -> ReservedProfile:
    return ReservedProfile(
        integration_id=row["integration_id"],
        reserved_at=row["reserved_at"],
        customer_id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        attributes=row["attributes"] or {},
        closed_sessions=int(row["closed_sessions"] or 0),
        total_sales=Decimal(row["total_sales"] or 0),  # (the sum keeps the Amount type)
    )


def _filters(query: CouponQuery) -> list[ColumnElement[bool]]:
    c = coupons.c
    found: list[ColumnElement[bool]] = [c.application_id == query.application_id]
    if query.campaign_id is not None:
        found.append(c.campaign_id == query.campaign_id)
    if query.value:
        folded = func.lower(c.value)
        wanted = query.value.lower()
        if query.exact_match:
            found.append(folded == wanted)
        else:
            escaped = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found.append(folded.like(f"%{escaped}%", escape="\\"))
    ranges = (
        (c.created_at, query.created_after, query.created_before),
        (c.start_date, query.starts_after, query.starts_before),
        (c.expiry_date, query.expires_after, query.expires_before),
    )
    for column, after, before in ranges:
        if after is not None:
            found.append(column > after)
        if before is not None:
            found.append(column < before)
    found.extend(_state_filters(query))
    if query.recipient_integration_id is not None:
        found.append(c.recipient_integration_id == query.recipient_integration_id)
    if query.batch_id is not None:
        found.append(c.batch_id == query.batch_id)
    return found


def _state_filters(query: CouponQuery) -> list[ColumnElement[bool]]:
    c = coupons.c
    found: list[ColumnElement[bool]] = []
    now = query.now
    if query.valid == "expired" and now is not None:
        found.append(and_(c.expiry_date.is_not(None), c.expiry_date <= now))
    elif query.valid == "validNow" and now is not None:
        found.append(or_(c.start_date.is_(None), c.start_date <= now))
        found.append(or_(c.expiry_date.is_(None), c.expiry_date > now))
    elif query.valid == "validFuture" and now is not None:
        found.append(and_(c.start_date.is_not(None), c.start_date > now))
    usable = or_(c.usage_limit == 0, c.usage_counter < c.usage_limit)
    if query.usable is True:
        found.append(usable)
    elif query.usable is False:
        found.append(~usable)
    if query.redeemed is not None:
        found.append(c.usage_counter > 0 if query.redeemed else c.usage_counter == 0)
    return found or [true()]
