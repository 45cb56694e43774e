"""Coupon redemption counters that concurrent redemptions cannot push past a limit.

Each check-and-count is one conditional statement: ``UPDATE coupons SET
usage_counter = usage_counter + 1 WHERE … usage_counter < usage_limit`` and
an upsert of the customer's count ``… DO UPDATE … WHERE count < limit``.
On PostgreSQL a second transaction updating the same row waits for the
first and re-checks the condition against the committed row (READ
COMMITTED); on SQLite writers take turns. A statement that matched no row
is a limit reached; what the first step counted is then taken back in the
same transaction, so a refused redemption changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from patron.domain.promotions import model
from patron.domain.promotions.codes import lookup_key
from patron.domain.promotions.coupon_model import engine_coupon
from patron.store.promotions.coupon_rows import selected, stored
from patron.store.promotions.tables import (
    applications,
    coupon_redemptions,
    coupon_reservations,
    coupons,
)
from patron.store.unit_base import UnitBase

COUPON_LIMIT_REACHED = "CouponLimitReached"
PROFILE_LIMIT_REACHED = "ProfileLimitReached"
PROFILE_REQUIRED = "ProfileRequired"
COUPON_NOT_FOUND = "CouponNotFound"


class RedemptionQueries(UnitBase):
    """``redeem_coupon``, ``unredeem_coupon`` and ``coupons_for_codes`` (cross-part functions)."""

    def redeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> str | None:
        """Count one redemption within every limit; None, or Talon's reason and no change."""
        c = coupons.c
        found = self.connection.execute(
            select(c.per_profile_limit, applications.c.workspace_id)
            .join(applications, applications.c.id == c.application_id)
            .where(c.id == coupon_id)
        ).first()
        if found is None:
            return COUPON_NOT_FOUND
        per_profile_limit, workspace_id = found
        if per_profile_limit and not integration_id:
            return PROFILE_REQUIRED
        counted = self.connection.execute(
            update(coupons)
            .where(
                c.id == coupon_id,
                or_(c.usage_limit == 0, c.usage_counter < c.usage_limit),
                or_(c.discount_limit == 0, c.discount_counter + discount <= c.discount_limit),
            )
            .values(
                usage_counter=c.usage_counter + 1, discount_counter=c.discount_counter + discount
            )
        )
        if counted.rowcount != 1:
            return COUPON_LIMIT_REACHED
        if integration_id and not self._count_customer(
            coupon_id, integration_id, workspace_id, per_profile_limit
        ):
            self._uncount_coupon(coupon_id, discount)
            return PROFILE_LIMIT_REACHED
        return None

    def unredeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> None:
        """Take one redemption back (a cancelled session's rollback); never below zero."""
        self._uncount_coupon(coupon_id, discount)
        if integration_id:
            r = coupon_redemptions.c
            self.connection.execute(
                update(coupon_redemptions)
                .where(r.coupon_id == coupon_id, r.integration_id == integration_id, r.count > 0)
                .values(count=r.count - 1)
            )

    def coupons_for_codes(
        self, application_id: int, case_sensitivity: str, codes: Sequence[str], integration_id: str
    ) -> dict[str, model.Coupon]:
        """The coupons the codes name, for the engine, keyed by the code as sent.

        ``profile_redemptions`` and ``reserved_by`` are about ``integration_id``
        only (``reserved_by`` holds it if it holds a reservation): all the
        engine asks of them.
        """
        by_key: dict[str, list[str]] = {}
        for code in codes:
            by_key.setdefault(lookup_key(code, case_sensitivity), []).append(code)
        if not by_key:
            return {}
        rows = self.connection.execute(
            selected().where(
                coupons.c.application_id == application_id, coupons.c.lookup.in_(list(by_key))
            )
        ).mappings()
        found_rows = [stored(row) for row in rows]
        counts, held = self._customer_facts([s.id for s in found_rows], integration_id)
        found: dict[str, model.Coupon] = {}
        for coupon in found_rows:
            reserved = frozenset({integration_id}) if coupon.id in held else frozenset()
            view = engine_coupon(coupon, counts.get(coupon.id, 0), reserved)
            for code in by_key.get(_lookup_of(coupon.value, case_sensitivity), []):
                found[code] = view
        return found

    def _customer_facts(
        self, coupon_ids: list[int], integration_id: str
    ) -> tuple[dict[int, int], set[int]]:
        if not coupon_ids or not integration_id:
            return {}, set()
        r = coupon_redemptions.c
        counts = self.connection.execute(
            select(r.coupon_id, r.count).where(
                r.coupon_id.in_(coupon_ids), r.integration_id == integration_id
            )
        )
        v = coupon_reservations.c
        held = self.connection.scalars(
            select(v.coupon_id).where(
                v.coupon_id.in_(coupon_ids), v.integration_id == integration_id
            )
        )
        return {row[0]: row[1] for row in counts}, set(held)

    def _count_customer(
        self, coupon_id: int, integration_id: str, workspace_id: str, limit: int
    ) -> bool:
        dialect = postgresql if self.is_postgres else sqlite
        r = coupon_redemptions.c
        statement = (
            dialect.insert(coupon_redemptions)
            .values(
                coupon_id=coupon_id,
                integration_id=integration_id,
                workspace_id=workspace_id,
                count=1,
            )
            .on_conflict_do_update(
                index_elements=[r.coupon_id, r.integration_id],
                set_={"count": r.count + 1},
                where=(r.count < limit) if limit else None,
            )
            .returning(r.count)  # (psycopg's rowcount of an upsert is -1: ask for the row)
        )
        return self.connection.execute(statement).first() is not None

    def _uncount_coupon(self, coupon_id: int, discount: Decimal) -> None:
        c = coupons.c
        self.connection.execute(
            update(coupons)
            .where(c.id == coupon_id, c.usage_counter > 0)
            .values(
                usage_counter=c.usage_counter - 1,
                discount_counter=case(
                    (c.discount_counter > discount, c.discount_counter - discount), else_=0
                ),
            )
        )


def _lookup_of(value: str, case_sensitivity: str) -> str:
    return lookup_key(value, case_sensitivity)
