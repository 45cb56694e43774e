"""The queries of a customer's holdings (a mixin of ``SqlUnit``): coupons reserved for
or addressed to a profile, the referral codes it advocates, its loyalty ledgers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select

from patron.domain.promotions.inventory import (
    HeldCoupon,
    HeldReferral,
    LedgerEntry,
    ProgramLedger,
)
from patron.store.promotions.tables import (
    applications,
    campaigns,
    coupon_redemptions,
    coupon_reservations,
    coupons,
    loyalty_ledger,
    loyalty_programs,
    referral_redemptions,
    referrals,
)
from patron.store.unit_base import UnitBase


class InventoryQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.inventory.InventoryReader`."""

    def held_coupons(
        self,
        workspace_id: str,
        integration_id: str,
        application_id: int | None,
        *,
        implicit: bool,
    ) -> list[HeldCoupon]:
        reserved = select(coupon_reservations.c.coupon_id).where(
            coupon_reservations.c.workspace_id == workspace_id,
            coupon_reservations.c.integration_id == integration_id,
        )
        held: list[ColumnElement[bool]] = [
            coupons.c.id.in_(reserved),
            coupons.c.recipient_integration_id == integration_id,
        ]
        if implicit:
            held.append(coupons.c.implicitly_reserved == 1)
        redeemed = (
            select(coupon_redemptions.c.coupon_id, coupon_redemptions.c.count)
            .where(coupon_redemptions.c.integration_id == integration_id)
            .subquery()
        )
        query = (
            _with_campaign(select(coupons, redeemed.c.count.label("redeemed")), coupons.c)
            .outerjoin(redeemed, redeemed.c.coupon_id == coupons.c.id)
            .where(_in_scope(coupons.c.application_id, workspace_id, application_id))
            .where(or_(*held))
            .order_by(coupons.c.id)
        )
        rows = list(self.connection.execute(query).mappings())
        mine = set(self.connection.scalars(reserved))
        return [_coupon(row, row["id"] in mine) for row in rows]

    def held_referrals(
        self, workspace_id: str, integration_id: str, application_id: int | None
    ) -> list[HeldReferral]:
        query = (
            _with_campaign(select(referrals), referrals.c)
            .where(_in_scope(referrals.c.application_id, workspace_id, application_id))
            .where(referrals.c.advocate_integration_id == integration_id)
            .order_by(referrals.c.id)
        )
        rows = list(self.connection.execute(query).mappings())
        friends: dict[int, list[str]] = {}
        if rows:
            used = (
                select(referral_redemptions.c.referral_id, referral_redemptions.c.integration_id)
                .where(referral_redemptions.c.referral_id.in_([row["id"] for row in rows]))
                .order_by(referral_redemptions.c.referral_id, referral_redemptions.c.integration_id)
            )
            for referral_id, friend in self.connection.execute(used):
                friends.setdefault(referral_id, []).append(friend)
        return [_referral(row, tuple(friends.get(row["id"], ()))) for row in rows]

    def loyalty_ledgers(self, workspace_id: str, integration_id: str) -> list[ProgramLedger]:
        ledger = loyalty_ledger
        query = (
            select(loyalty_programs, ledger)
            .join(ledger, ledger.c.program_id == loyalty_programs.c.id)
            .where(loyalty_programs.c.workspace_id == workspace_id)
            .where(ledger.c.integration_id == integration_id)
            .order_by(loyalty_programs.c.id, ledger.c.id)
        )
        programs: dict[int, tuple[Any, list[LedgerEntry]]] = {}
        for row in self.connection.execute(query):
            program = row._mapping
            entry = LedgerEntry(
                subledger_id=program[ledger.c.subledger_id],
                type=program[ledger.c.type],
                amount=program[ledger.c.amount],
                remaining=program[ledger.c.remaining],
                start_date=program[ledger.c.start_date],
                expiry_date=program[ledger.c.expiry_date],
                created=program[ledger.c.created_at],
            )
            programs.setdefault(program[loyalty_programs.c.id], (program, []))[1].append(entry)
        return [_program(program, entries) for program, entries in programs.values()]


def _in_scope(
    column: ColumnElement[int], workspace_id: str, application_id: int | None
) -> ColumnElement[bool]:
    """Rows of this application, or of every application of the workspace (None)."""
    of_workspace = select(applications.c.id).where(applications.c.workspace_id == workspace_id)
    if application_id is not None:
        of_workspace = of_workspace.where(applications.c.id == application_id)
    return column.in_(of_workspace)


def _with_campaign(query: Select[Any], columns: Any) -> Select[Any]:
    return query.add_columns(
        campaigns.c.name.label("campaign_name"),
        and_(campaigns.c.state == "enabled", campaigns.c.deleted_at.is_(None)).label(
            "campaign_enabled"
        ),
    ).join(campaigns, campaigns.c.id == columns.campaign_id)


def _coupon(row: Any, reserved: bool) -> HeldCoupon:
    return HeldCoupon(
        id=row["id"],
        application_id=row["application_id"],
        campaign_id=row["campaign_id"],
        campaign_name=row["campaign_name"],
        campaign_enabled=bool(row["campaign_enabled"]),
        value=row["value"],
        created=row["created_at"],
        usage_limit=row["usage_limit"],
        usage_counter=row["usage_counter"],
        discount_limit=row["discount_limit"],
        discount_counter=row["discount_counter"],
        per_profile_limit=row["per_profile_limit"],
        reservation_limit=row["reservation_limit"],
        start_date=row["start_date"],
        expiry_date=row["expiry_date"],
        recipient_integration_id=row["recipient_integration_id"],
        attributes=row["attributes"] or {},
        batch_id=row["batch_id"],
        is_reservation_mandatory=bool(row["is_reservation_mandatory"]),
        implicitly_reserved=bool(row["implicitly_reserved"]),
        reserved=reserved,
        profile_redemptions=int(row["redeemed"] or 0),
    )


def _referral(row: Any, friends: tuple[str, ...]) -> HeldReferral:
    return HeldReferral(
        id=row["id"],
        application_id=row["application_id"],
        campaign_id=row["campaign_id"],
        campaign_name=row["campaign_name"],
        campaign_enabled=bool(row["campaign_enabled"]),
        code=row["code"],
        created=row["created_at"],
        advocate_integration_id=row["advocate_integration_id"],
        friend_integration_id=row["friend_integration_id"],
        usage_limit=row["usage_limit"],
        usage_counter=row["usage_counter"],
        start_date=row["start_date"],
        expiry_date=row["expiry_date"],
        attributes=row["attributes"] or {},
        batch_id=row["batch_id"],
        referred_customers=friends,
    )


def _program(program: Any, entries: list[LedgerEntry]) -> ProgramLedger:
    subscribed = program[loyalty_programs.c.subscribed_applications] or []
    return ProgramLedger(
        id=program[loyalty_programs.c.id],
        name=program[loyalty_programs.c.name],
        title=program[loyalty_programs.c.title],
        subscribed_applications=tuple(int(a) for a in subscribed if str(a).isdigit()),
        created=program[loyalty_programs.c.created_at],
        entries=tuple(entries),
    )
