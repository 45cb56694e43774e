"""STAND-INS for store methods other parts of promotions own (coupons, referrals, loyalty,
audiences), so that the session pipeline runs before their branches are merged.

Each is the smallest correct version of the contract the sessions part calls
(see ``domain/promotions/session_ports.py:CrossPartQueries``). This mixin is
the LAST base of ``SqlUnit``: once the owning part's mixin is a base too (an
earlier one), its methods win and these are unused — then delete this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, true, update

from patron.domain.promotions.codes import lookup_key
from patron.domain.promotions.model import Coupon, LoyaltyBalance, LoyaltyProgram, Referral
from patron.store.promotions.tables import (
    audiences,
    coupon_redemptions,
    coupon_reservations,
    coupons,
    loyalty_ledger,
    loyalty_programs,
    referral_redemptions,
    referrals,
)
from patron.store.schema import segment_members
from patron.store.unit_base import UnitBase

ZERO = Decimal(0)


class SessionFallbackQueries(UnitBase):
    """Minimal coupons/referrals/loyalty/audiences queries (stand-ins, see the module)."""

    # -- coupons ----------------------------------------------------------------------

    def coupons_for_codes(
        self, application_id: int, case_sensitivity: str, codes: Sequence[str], integration_id: str
    ) -> dict[str, Coupon]:
        keys = {lookup_key(code, case_sensitivity): code for code in codes}
        query = select(coupons).where(
            coupons.c.application_id == application_id, coupons.c.lookup.in_(list(keys))
        )
        found: dict[str, Coupon] = {}
        for row in self.connection.execute(query).mappings():
            redeemed = self.connection.scalar(
                select(coupon_redemptions.c.count).where(
                    coupon_redemptions.c.coupon_id == row["id"],
                    coupon_redemptions.c.integration_id == integration_id,
                )
            )
            holders = self.connection.scalars(
                select(coupon_reservations.c.integration_id).where(
                    coupon_reservations.c.coupon_id == row["id"]
                )
            )
            found[keys[row["lookup"]]] = Coupon(
                id=row["id"],
                code=row["value"],
                campaign_id=row["campaign_id"],
                usage_limit=row["usage_limit"],
                usage_counter=row["usage_counter"],
                discount_limit=row["discount_limit"],
                discount_counter=row["discount_counter"],
                per_profile_limit=row["per_profile_limit"],
                profile_redemptions=int(redeemed or 0),
                start_date=row["start_date"],
                expiry_date=row["expiry_date"],
                recipient_integration_id=row["recipient_integration_id"] or "",
                attributes=row["attributes"],
                is_reservation_mandatory=bool(row["is_reservation_mandatory"]),
                implicitly_reserved=bool(row["implicitly_reserved"]),
                reserved_by=frozenset(holders),
            )
        return found

    def redeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> str | None:
        row = self.connection.execute(
            select(coupons.c.per_profile_limit).where(coupons.c.id == coupon_id)
        ).first()
        if row is None:
            return "CouponNotFound"
        raised = self.connection.execute(
            update(coupons)
            .where(
                coupons.c.id == coupon_id,
                or_(coupons.c.usage_limit == 0, coupons.c.usage_counter < coupons.c.usage_limit),
                or_(
                    coupons.c.discount_limit == 0,
                    coupons.c.discount_counter + discount <= coupons.c.discount_limit,
                ),
            )
            .values(
                usage_counter=coupons.c.usage_counter + 1,
                discount_counter=coupons.c.discount_counter + discount,
            )
        )
        if raised.rowcount != 1:
            return "CouponLimitReached"
        if not integration_id:
            return None
        per_profile = int(row[0])
        key = and_(
            coupon_redemptions.c.coupon_id == coupon_id,
            coupon_redemptions.c.integration_id == integration_id,
        )
        within = true() if not per_profile else coupon_redemptions.c.count < per_profile
        counted = self.connection.execute(
            update(coupon_redemptions)
            .where(key, within)
            .values(count=coupon_redemptions.c.count + 1)
        )
        if counted.rowcount == 1:
            return None
        if self.connection.scalar(select(coupon_redemptions.c.count).where(key)) is not None:
            self.unredeem_coupon(coupon_id, "", discount)
            return "ProfileLimitReached"
        self.connection.execute(
            insert(coupon_redemptions).values(
                coupon_id=coupon_id, integration_id=integration_id, workspace_id="", count=1
            )
        )
        return None

    def unredeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> None:
        self.connection.execute(
            update(coupons)
            .where(coupons.c.id == coupon_id, coupons.c.usage_counter > 0)
            .values(
                usage_counter=coupons.c.usage_counter - 1,
                discount_counter=func.max(coupons.c.discount_counter - discount, 0)
                if not self.is_postgres
                else func.greatest(coupons.c.discount_counter - discount, 0),
            )
        )
        if integration_id:
            self.connection.execute(
                update(coupon_redemptions)
                .where(
                    coupon_redemptions.c.coupon_id == coupon_id,
                    coupon_redemptions.c.integration_id == integration_id,
                    coupon_redemptions.c.count > 0,
                )
                .values(count=coupon_redemptions.c.count - 1)
            )

    # -- referrals ----------------------------------------------------------------------

    def referral_for_code(
        self, application_id: int, case_sensitivity: str, code: str
    ) -> Referral | None:
        query = select(referrals).where(
            referrals.c.application_id == application_id,
            referrals.c.lookup == lookup_key(code, case_sensitivity),
        )
        row = self.connection.execute(query).mappings().first()
        if row is None:
            return None
        return Referral(
            id=row["id"],
            code=row["code"],
            campaign_id=row["campaign_id"],
            advocate_integration_id=row["advocate_integration_id"],
            friend_integration_id=row["friend_integration_id"] or "",
            usage_limit=row["usage_limit"],
            usage_counter=row["usage_counter"],
            start_date=row["start_date"],
            expiry_date=row["expiry_date"],
            attributes=row["attributes"],
        )

    def redeem_referral(self, referral_id: int, friend_integration_id: str) -> str | None:
        raised = self.connection.execute(
            update(referrals)
            .where(
                referrals.c.id == referral_id,
                or_(
                    referrals.c.usage_limit == 0,
                    referrals.c.usage_counter < referrals.c.usage_limit,
                ),
            )
            .values(usage_counter=referrals.c.usage_counter + 1)
        )
        if raised.rowcount != 1:
            return "ReferralLimitReached"
        key = and_(
            referral_redemptions.c.referral_id == referral_id,
            referral_redemptions.c.integration_id == friend_integration_id,
        )
        counted = self.connection.execute(
            update(referral_redemptions).where(key).values(count=referral_redemptions.c.count + 1)
        )
        if counted.rowcount == 0 and friend_integration_id:
            self.connection.execute(
                insert(referral_redemptions).values(
                    referral_id=referral_id,
                    integration_id=friend_integration_id,
                    workspace_id="",
                    count=1,
                )
            )
        return None

    def unredeem_referral(self, referral_id: int, friend_integration_id: str) -> None:
        self.connection.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.usage_counter > 0)
            .values(usage_counter=referrals.c.usage_counter - 1)
        )

    # -- loyalty (main ledgers only; pending and expiry by dates) -------------------------

    def loyalty_for_profile(
        self, workspace_id: str, application_id: int, integration_id: str, now: datetime
    ) -> dict[str, LoyaltyProgram]:
        query = select(loyalty_programs).where(loyalty_programs.c.workspace_id == workspace_id)
        found: dict[str, LoyaltyProgram] = {}
        for row in self.connection.execute(query).mappings():
            if application_id not in (row["subscribed_applications"] or []):
                continue
            current = pending = ZERO
            ledger = select(loyalty_ledger).where(
                loyalty_ledger.c.program_id == row["id"],
                loyalty_ledger.c.integration_id == integration_id,
                loyalty_ledger.c.subledger_id == "",
                loyalty_ledger.c.type == "addition",
            )
            for entry in self.connection.execute(ledger).mappings():
                if entry["expiry_date"] is not None and entry["expiry_date"] <= now:
                    continue
                if entry["start_date"] is not None and entry["start_date"] > now:
                    pending += entry["remaining"]
                else:
                    current += entry["remaining"]
            balance = LoyaltyBalance(current=current, pending=pending)
            found[str(row["id"])] = LoyaltyProgram(row["id"], row["name"], balance)
        return found

    def add_points(
        self,
        program_id: int,
        integration_id: str,
        subledger_id: str,
        amount: Decimal,
        *,
        name: str,
        start_date: datetime | None,
        expiry_date: datetime | None,
        application_id: int,
        session_id: str,
        transaction_uuid: str,
        now: datetime,
    ) -> None:
        self._ledger_row(
            program_id=program_id,
            integration_id=integration_id,
            subledger_id=subledger_id,
            type="addition",
            amount=amount,
            remaining=amount,
            name=name,
            application_id=application_id,
            session_integration_id=session_id,
            transaction_uuid=transaction_uuid,
            created_at=now,
            start_date=start_date,
            expiry_date=expiry_date,
        )

    def deduct_points(
        self,
        program_id: int,
        integration_id: str,
        subledger_id: str,
        amount: Decimal,
        *,
        name: str,
        application_id: int,
        session_id: str,
        transaction_uuid: str,
        now: datetime,
    ) -> bool:
        query = (
            select(loyalty_ledger.c.id, loyalty_ledger.c.remaining)
            .where(
                loyalty_ledger.c.program_id == program_id,
                loyalty_ledger.c.integration_id == integration_id,
                loyalty_ledger.c.subledger_id == subledger_id,
                loyalty_ledger.c.type == "addition",
                loyalty_ledger.c.remaining > 0,
                or_(loyalty_ledger.c.start_date.is_(None), loyalty_ledger.c.start_date <= now),
                or_(loyalty_ledger.c.expiry_date.is_(None), loyalty_ledger.c.expiry_date > now),
            )
            .order_by(loyalty_ledger.c.expiry_date.is_(None), loyalty_ledger.c.expiry_date)
        )
        rows = list(self.connection.execute(query))
        if sum((row[1] for row in rows), ZERO) < amount:
            return False
        left = amount
        for row_id, remaining in rows:
            taken = min(left, remaining)
            self.connection.execute(
                update(loyalty_ledger)
                .where(loyalty_ledger.c.id == row_id)
                .values(remaining=remaining - taken)
            )
            left -= taken
            if left <= 0:
                break
        self._ledger_row(
            program_id=program_id,
            integration_id=integration_id,
            subledger_id=subledger_id,
            type="subtraction",
            amount=amount,
            remaining=ZERO,
            name=name,
            application_id=application_id,
            session_integration_id=session_id,
            transaction_uuid=transaction_uuid,
            created_at=now,
        )
        return True

    def reverse_transaction(self, transaction_uuid: str, now: datetime) -> None:
        query = select(loyalty_ledger).where(loyalty_ledger.c.transaction_uuid == transaction_uuid)
        for row in list(self.connection.execute(query).mappings()):
            if row["type"] == "addition":
                self.connection.execute(
                    update(loyalty_ledger)
                    .where(loyalty_ledger.c.id == row["id"])
                    .values(remaining=ZERO)
                )
            elif row["type"] == "subtraction":
                self._ledger_row(
                    program_id=row["program_id"],
                    integration_id=row["integration_id"],
                    subledger_id=row["subledger_id"],
                    type="addition",
                    amount=row["amount"],
                    remaining=row["amount"],
                    name=f"rollback: {row['name']}",
                    application_id=row["application_id"],
                    session_integration_id=row["session_integration_id"],
                    transaction_uuid=f"{transaction_uuid}-rollback",
                    created_at=now,
                )

    def _ledger_row(self, **values: Any) -> None:
        values["name"] = str(values.get("name", ""))[:1000]
        self.connection.execute(insert(loyalty_ledger).values(values))

    # -- audiences ----------------------------------------------------------------------

    def audience_ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]:
        query = (
            select(audiences.c.id)
            .join(segment_members, segment_members.c.segment_id == audiences.c.segment_id)
            .where(
                audiences.c.workspace_id == workspace_id,
                segment_members.c.customer_id == customer_id,
            )
            .order_by(audiences.c.id)
        )
        return tuple(int(value) for value in self.connection.scalars(query))
