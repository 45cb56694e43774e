"""The queries of referral codes and their use (a mixin of ``SqlUnit``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from patron.domain.promotions.codes import lookup_key
from patron.domain.promotions.model import Referral
from patron.domain.promotions.referrals import ReferralQuery, ReferralRecord
from patron.store.promotions.tables import applications, referral_redemptions, referrals
from patron.store.unit_base import UnitBase

LIMIT_REACHED = "ReferralLimitReached"


class ReferralQueries(UnitBase):
    """Implements the referral half of :class:`~patron.domain.promotions.referrals.ReferralUnit`."""

    is_postgres: bool

    def taken_referral_lookups(self, application_id: int, lookups: Collection[str]) -> set[str]:
        keys = list(lookups)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            query = select(referrals.c.lookup).where(
                referrals.c.application_id == application_id,
                referrals.c.lookup.in_(keys[start : start + 500]),
            )
            found.update(self.connection.scalars(query))
        return found

    def insert_referrals(
        self, referrals_: Sequence[ReferralRecord], case_sensitivity: str
    ) -> list[ReferralRecord]:
        # (A code taken meanwhile by another process is a unique violation: the
        # store runs the work again, which draws other codes.)
        made = []
        for referral in referrals_:
            values = _values(referral)
            values |= {
                "application_id": referral.application_id,
                "campaign_id": referral.campaign_id,
                "code": referral.code,
                "lookup": lookup_key(referral.code, case_sensitivity),
                "advocate_integration_id": referral.advocate_integration_id,
                "usage_counter": referral.usage_counter,
                "batch_id": referral.batch_id,
                "created_at": referral.created_at,
            }
            query = insert(referrals).values(values).returning(referrals.c.id)
            made.append(replace(referral, id=self._id(query)))
        return made

    def _id(self, query: Any) -> int:
        return int(self.connection.execute(query).scalar_one())

    def get_referral(
        self, application_id: int, campaign_id: int, referral_id: int
    ) -> ReferralRecord | None:
        query = select(referrals).where(
            referrals.c.application_id == application_id,
            referrals.c.campaign_id == campaign_id,
            referrals.c.id == referral_id,
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _record(row)

    def save_referral(self, referral: ReferralRecord) -> None:
        self.connection.execute(
            update(referrals).where(referrals.c.id == referral.id).values(_values(referral))
        )

    def delete_referral(self, referral_id: int) -> None:
        self.connection.execute(
            delete(referral_redemptions).where(referral_redemptions.c.referral_id == referral_id)
        )
        self.connection.execute(delete(referrals).where(referrals.c.id == referral_id))

    def list_referrals(
        self, application_id: int, campaign_id: int, query: ReferralQuery, now: datetime
    ) -> list[ReferralRecord]:
        order = referrals.c.id.desc() if query.descending else referrals.c.id.asc()
        select_ = (
            select(referrals)
            .where(
                referrals.c.application_id == application_id,
                referrals.c.campaign_id == campaign_id,
                *_filters(query, now),
            )
            .order_by(order)
            .offset(query.skip)
            .limit(query.limit)
        )
        return [_record(row) for row in self.connection.execute(select_).mappings()]

    # -- what the sessions part calls -------------------------------------------

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
        friends = select(referral_redemptions.c.integration_id).where(
            referral_redemptions.c.referral_id == row["id"]
        )
        used_by = tuple(
            self.connection.scalars(friends.order_by(referral_redemptions.c.integration_id))
        )
        return replace(_record(row).engine(), referred_customers=used_by)

    def redeem_referral(self, referral_id: int, friend_integration_id: str) -> str | None:
        """One conditional update: the counter moves only while below the limit."""
        counted = self.connection.execute(
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
        if counted.rowcount != 1:
            return LIMIT_REACHED
        workspace = (
            select(applications.c.workspace_id)
            .join(referrals, referrals.c.application_id == applications.c.id)
            .where(referrals.c.id == referral_id)
        )
        workspace_id = self.connection.scalar(workspace)
        dialect = postgresql if self.is_postgres else sqlite
        table = referral_redemptions
        self.connection.execute(
            dialect.insert(table)
            .values(
                referral_id=referral_id,
                integration_id=friend_integration_id,
                workspace_id=workspace_id,
                count=1,
            )
            .on_conflict_do_update(
                index_elements=[table.c.referral_id, table.c.integration_id],
                set_={"count": table.c.count + 1},
            )
        )
        return None

    def unredeem_referral(self, referral_id: int, friend_integration_id: str) -> None:
        self.connection.execute(
            update(referrals)
            .where(referrals.c.id == referral_id, referrals.c.usage_counter > 0)
            .values(usage_counter=referrals.c.usage_counter - 1)
        )
        mine = and_(
            referral_redemptions.c.referral_id == referral_id,
            referral_redemptions.c.integration_id == friend_integration_id,
        )
        self.connection.execute(
            update(referral_redemptions).where(mine).values(count=referral_redemptions.c.count - 1)
        )
        self.connection.execute(
            delete(referral_redemptions).where(mine, referral_redemptions.c.count <= 0)
        )


def _filters(query: ReferralQuery, now: datetime) -> list[Any]:
    found: list[Any] = []
    if query.advocate is not None:
        found.append(referrals.c.advocate_integration_id == query.advocate)
    if query.code:
        found.append(func.lower(referrals.c.code).contains(query.code.lower(), autoescape=True))
    if query.usable is not None:
        below = or_(
            referrals.c.usage_limit == 0, referrals.c.usage_counter < referrals.c.usage_limit
        )
        found.append(below if query.usable else ~below)
    if query.created_before is not None:
        found.append(referrals.c.created_at < query.created_before)
    if query.created_after is not None:
        found.append(referrals.c.created_at > query.created_after)
    start, expiry = referrals.c.start_date, referrals.c.expiry_date
    if query.valid == "expired":
        found.append(and_(expiry.is_not(None), expiry <= now))
    elif query.valid == "validNow":
        found.append(or_(start.is_(None), start <= now))
        found.append(or_(expiry.is_(None), expiry > now))
    elif query.valid == "validFuture":
        found.append(and_(start.is_not(None), start > now))
    return found


def _values(referral: ReferralRecord) -> dict[str, Any]:
    """The fields the Management API may change."""
    return {
        "friend_integration_id": referral.friend_integration_id,
        "usage_limit": referral.usage_limit,
        "start_date": referral.start_date,
        "expiry_date": referral.expiry_date,
        "attributes": dict(referral.attributes),
    }


def _record(row: Any) -> ReferralRecord:
    return ReferralRecord(
        id=row["id"],
        application_id=row["application_id"],
        campaign_id=row["campaign_id"],
        code=row["code"],
        advocate_integration_id=row["advocate_integration_id"],
        friend_integration_id=row["friend_integration_id"],
        usage_limit=row["usage_limit"],
        usage_counter=row["usage_counter"],
        start_date=row["start_date"],
        expiry_date=row["expiry_date"],
        attributes=row["attributes"],
        batch_id=row["batch_id"],
        created_at=row["created_at"],
    )
