"""Coupon reservations (Integration API ``/v1/coupon_reservations…``).

A reservation ties a coupon to a customer's integration id. For a coupon
with ``is_reservation_mandatory`` it is **hard**: only holders may redeem it.
Otherwise it is **soft**: the coupon shows in the holders' inventory, anyone
may redeem it. The endpoint overrides the coupon's ``reservation_limit`` (as
Talon's does): only the ``reserveCoupon`` effect is bound by it. An
integration id need not be a customer yet to hold a reservation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from patron.domain.clock import utcnow
from patron.domain.errors import Invalid, NotFound, Problem
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.codes import lookup_key
from patron.domain.promotions.coupon_model import (
    MAX_INTEGRATION_ID,
    ReservedProfile,
    StoredCoupon,
)
from patron.domain.promotions.coupons import CouponUnit
from patron.domain.store import Store

MAX_IDS = 1000  # integration ids per request


def check_integration_ids(ids: object) -> tuple[str, ...]:
    """The request's ``integrationIDs``: 1 to 1000 non-empty strings, or Invalid."""
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        raise Invalid.of([Problem(f"a list of 1 to {MAX_IDS} integration ids", "integrationIDs")])
    for index, value in enumerate(ids):
        if not isinstance(value, str) or not 0 < len(value) <= MAX_INTEGRATION_ID:
            raise Invalid.of(
                [
                    Problem(
                        f"a string of 1 to {MAX_INTEGRATION_ID} characters",
                        f"integrationIDs.{index}",
                    )
                ]
            )
    return tuple(dict.fromkeys(ids))


class ReservationService:
    def __init__(self, store: Store[CouponUnit], clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def reserve(
        self, caller: Caller, code: str, integration_ids: Sequence[str]
    ) -> StoredCoupon:
        """Reserve the coupon for every id; return it (with its reservation count)."""
        now = self.clock()

        def work(unit: CouponUnit) -> StoredCoupon:
            coupon = _coupon(unit, caller, code)
            unit.add_reservations(coupon.id, caller.workspace_id, integration_ids, now)
            found = unit.find_coupon(caller.application_id, coupon.id)
            assert found is not None  # found above, in this transaction
            return found

        return await self.store.write(work)

    async def release(self, caller: Caller, code: str, integration_ids: Sequence[str]) -> None:
        """Remove those ids' reservations of the coupon (ids holding none: nothing to do)."""

        def work(unit: CouponUnit) -> None:
            coupon = _coupon(unit, caller, code)
            unit.remove_reservations(coupon.id, integration_ids)

        await self.store.write(work)

    async def holders(self, caller: Caller, code: str) -> list[ReservedProfile]:
        """Who holds a reservation of the coupon (hard or soft), oldest first."""

        def work(unit: CouponUnit) -> list[ReservedProfile]:
            coupon = _coupon(unit, caller, code)
            return unit.reserved_profiles(coupon.id, caller.workspace_id)

        return await self.store.read(work)


def _coupon(unit: CouponUnit, caller: Caller, code: str) -> StoredCoupon:
    application = unit.get_application(caller.workspace_id, caller.application_id)
    if application is None:
        raise NotFound("application", caller.application_id)
    found = unit.coupon_by_lookup(application.id, lookup_key(code, application.case_sensitivity))
    if found is None:
        raise NotFound("coupon", code)
    return found
