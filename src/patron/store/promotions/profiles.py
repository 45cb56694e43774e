"""The queries of Talon profiles (a mixin of ``SqlUnit``): what the promotions tables
know of a customer, its audiences, and erasing the rows that name it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, delete, func, select, tuple_, update
from sqlalchemy.sql.expression import Executable

from patron.domain.promotions.profiles import SessionTotals
from patron.store.promotions.tables import (
    applications,
    campaign_usage,
    campaigns,
    coupon_redemptions,
    coupon_reservations,
    coupons,
    customer_sessions,
    idempotent_answers,
    idempotent_profiles,
    loyalty_ledger,
    loyalty_programs,
    referral_redemptions,
    referrals,
)
from patron.store.unit_base import UnitBase

CLOSED = ("closed", "partially_returned")
CHUNK = 500  # integration ids per statement


class ProfileQueries(UnitBase):
    """Implements the store half of :mod:`patron.domain.promotions.profiles`' ports."""

    def profile_session_totals(self, workspace_id: str, integration_id: str) -> SessionTotals:
        sessions = customer_sessions
        mine = (
            sessions.c.workspace_id == workspace_id,
            sessions.c.profile_integration_id == integration_id,
        )
        closed = self.connection.execute(
            select(func.count(), func.sum(sessions.c.total)).where(
                *mine, sessions.c.state.in_(CLOSED)
            )
        ).one()
        last = self.connection.scalar(select(func.max(sessions.c.updated_at)).where(*mine))
        return SessionTotals(
            closed_sessions=int(closed[0] or 0),
            total_sales=Decimal(closed[1] or 0),
            last_session=last,
        )

    def profile_loyalty_memberships(
        self, workspace_id: str, integration_id: str
    ) -> list[tuple[int, datetime | None]]:
        query = (
            select(loyalty_ledger.c.program_id, func.min(loyalty_ledger.c.created_at))
            .join(loyalty_programs, loyalty_programs.c.id == loyalty_ledger.c.program_id)
            .where(loyalty_programs.c.workspace_id == workspace_id)
            .where(loyalty_ledger.c.integration_id == integration_id)
            .group_by(loyalty_ledger.c.program_id)
            .order_by(loyalty_ledger.c.program_id)
        )
        return [(row[0], row[1]) for row in self.connection.execute(query)]

    # -- erasure --------------------------------------------------------------------

    def erase_profile_data(
        self, workspace_id: str, integration_ids: Collection[str]
    ) -> dict[str, int]:
        ordered = sorted(integration_ids)
        counts: dict[str, int] = {}
        for start in range(0, len(ordered), CHUNK):
            for kind, count in self._erase_chunk(workspace_id, ordered[start : start + CHUNK]):
                if kind:
                    counts[kind] = counts.get(kind, 0) + count
        return counts

    def _erase_chunk(self, workspace_id: str, ids: list[str]) -> list[tuple[str, int]]:
        statements = [*_coupon_erasures(workspace_id, ids), *_other_erasures(workspace_id, ids)]
        return [
            (kind, self.connection.execute(statement).rowcount) for kind, statement in statements
        ]


def _applications(workspace_id: str) -> Select[tuple[int]]:
    return select(applications.c.id).where(applications.c.workspace_id == workspace_id)


def _coupon_erasures(workspace_id: str, ids: list[str]) -> list[tuple[str, Executable]]:
    """Sessions, reservations and redemptions go; coupons addressed to them stay, unaddressed."""
    return [
        (
            "sessions",
            delete(customer_sessions).where(
                customer_sessions.c.workspace_id == workspace_id,
                customer_sessions.c.profile_integration_id.in_(ids),
            ),
        ),
        (
            "coupon_reservations",
            delete(coupon_reservations).where(
                coupon_reservations.c.workspace_id == workspace_id,
                coupon_reservations.c.integration_id.in_(ids),
            ),
        ),
        (
            "coupon_redemptions",
            delete(coupon_redemptions).where(
                coupon_redemptions.c.workspace_id == workspace_id,
                coupon_redemptions.c.integration_id.in_(ids),
            ),
        ),
        (
            "coupon_recipients",
            update(coupons)
            .where(
                coupons.c.application_id.in_(_applications(workspace_id)),
                coupons.c.recipient_integration_id.in_(ids),
            )
            .values(recipient_integration_id=None),
        ),
    ]


def _other_erasures(workspace_id: str, ids: list[str]) -> list[tuple[str, Executable]]:
    """Referrals they advocate (with their friends' uses), their uses of others' codes,
    their loyalty ledger entries and per-customer campaign counters."""
    advocated = select(referrals.c.id).where(
        referrals.c.application_id.in_(_applications(workspace_id)),
        referrals.c.advocate_integration_id.in_(ids),
    )
    used = referral_redemptions
    programs = select(loyalty_programs.c.id).where(loyalty_programs.c.workspace_id == workspace_id)
    of_workspace = select(campaigns.c.id).where(
        campaigns.c.application_id.in_(_applications(workspace_id))
    )
    return [
        (
            "referral_redemptions",
            delete(used).where(
                used.c.referral_id.in_(advocated)
                | ((used.c.workspace_id == workspace_id) & used.c.integration_id.in_(ids))
            ),
        ),
        ("referrals", delete(referrals).where(referrals.c.id.in_(advocated))),
        (
            "referral_friends",
            update(referrals)
            .where(
                referrals.c.application_id.in_(_applications(workspace_id)),
                referrals.c.friend_integration_id.in_(ids),
            )
            .values(friend_integration_id=None),
        ),
        (
            "ledger_entries",
            delete(loyalty_ledger).where(
                loyalty_ledger.c.program_id.in_(programs),
                loyalty_ledger.c.integration_id.in_(ids),
            ),
        ),
        *_answer_erasures(workspace_id, ids),
        (
            "usage_counters",
            delete(campaign_usage).where(
                campaign_usage.c.campaign_id.in_(of_workspace),
                campaign_usage.c.integration_id.in_(ids),
            ),
        ),
    ]


def _answer_erasures(workspace_id: str, ids: list[str]) -> list[tuple[str, Executable]]:
    """Idempotent answers carrying their data (then every profile link of a gone answer)."""
    answers, links = idempotent_answers, idempotent_profiles
    naming = select(links.c.application_id, links.c.key).where(
        links.c.application_id.in_(_applications(workspace_id)), links.c.integration_id.in_(ids)
    )
    answered = (
        select(answers.c.key)
        .where(answers.c.application_id == links.c.application_id, answers.c.key == links.c.key)
        .exists()
    )
    return [
        (
            "idempotent_answers",
            delete(answers).where(tuple_(answers.c.application_id, answers.c.key).in_(naming)),
        ),
        (
            "",  # (not counted: the links of the answers gone)
            delete(links).where(links.c.application_id.in_(_applications(workspace_id)), ~answered),
        ),
    ]
