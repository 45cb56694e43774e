"""The queries committing rules' effects needs beyond the other parts' (a mixin of ``SqlUnit``).

Implements :class:`~patron.domain.promotions.rule_ports.RuleDataQueries`
(with ``CouponQueries`` and ``ReferralQueries``): referrals of a batch, and
the customer's event history — counted over the ``(customer_id, timestamp)``
index, so a question costs one index range of that customer's events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from patron.domain.promotions.referrals import ReferralRecord
from patron.domain.promotions.session_ports import StoredSession
from patron.store.promotions.referrals import _record
from patron.store.promotions.sessions import _session
from patron.store.promotions.tables import customer_sessions, referrals
from patron.store.schema import events
from patron.store.unit_base import UnitBase


class RuleDataQueries(UnitBase):
    def referrals_of_batch(self, application_id: int, batch_id: str) -> list[ReferralRecord]:
        query = (
            select(referrals)
            .where(referrals.c.application_id == application_id, referrals.c.batch_id == batch_id)
            .order_by(referrals.c.id)
        )
        return [_record(row) for row in self.connection.execute(query).mappings()]

    def customer_event_count(
        self, workspace_id: str, customer_id: str, name: str, since: datetime | None
    ) -> int:
        query = select(func.count()).where(
            events.c.customer_id == customer_id,
            events.c.workspace_id == workspace_id,
            events.c.type == "track",
            events.c.name == name,
        )
        if since is not None:
            query = query.where(events.c.timestamp >= since)
        return int(self.connection.scalar(query) or 0)

    def customer_last_event(
        self, workspace_id: str, customer_id: str, name: str
    ) -> datetime | None:
        query = select(func.max(events.c.timestamp)).where(
            events.c.customer_id == customer_id,
            events.c.workspace_id == workspace_id,
            events.c.type == "track",
            events.c.name == name,
        )
        found: datetime | None = self.connection.scalar(query)
        return found

    def latest_session_of_profile(
        self, application_id: int, profile_id: str
    ) -> StoredSession | None:
        """The profile's most recently updated session in the application, in any state."""
        query = (
            select(customer_sessions)
            .where(
                customer_sessions.c.application_id == application_id,
                customer_sessions.c.profile_integration_id == profile_id,
            )
            .order_by(customer_sessions.c.updated_at.desc(), customer_sessions.c.id.desc())
            .limit(1)
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _session(row)
