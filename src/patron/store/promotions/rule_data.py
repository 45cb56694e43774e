"""The queries committing rules' effects needs beyond the other parts' (a mixin of ``SqlUnit``).

Implements :class:`~patron.domain.promotions.rule_ports.RuleDataQueries`
(with ``CouponQueries`` and ``ReferralQueries``): referrals of a batch, and
the customer's event history — counted over the ``(customer_id, timestamp)``
index, so a question costs one index range of that customer's events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select

from patron.domain.promotions.referrals import ReferralRecord
from patron.domain.promotions.session_ports import StoredSession
from patron.store.promotions.referrals import _record
from patron.store.promotions.sessions import _session
from patron.store.promotions.tables import customer_sessions, referrals
from patron.store.schema import events
from patron.store.unit_base import UnitBase

# Rules ask these on every evaluation that reads the event history: built once (a
# statement object reused keeps its compiled form and cache key), values bound per call.
_OF_CUSTOMER = (
    events.c.customer_id == bindparam("customer_id"),
    events.c.workspace_id == bindparam("workspace_id"),
    events.c.type == "track",
    events.c.name == bindparam("name"),
)
_EVENT_COUNT = select(func.count()).where(*_OF_CUSTOMER)
_EVENT_COUNT_SINCE = _EVENT_COUNT.where(events.c.timestamp >= bindparam("since"))
_LAST_EVENT = select(func.max(events.c.timestamp)).where(*_OF_CUSTOMER)


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
        values = {"customer_id": customer_id, "workspace_id": workspace_id, "name": name}
        if since is None:
            return int(self.connection.scalar(_EVENT_COUNT, values) or 0)
        return int(self.connection.scalar(_EVENT_COUNT_SINCE, {**values, "since": since}) or 0)

    def customer_last_event(
        self, workspace_id: str, customer_id: str, name: str
    ) -> datetime | None:
        values = {"customer_id": customer_id, "workspace_id": workspace_id, "name": name}
        found: datetime | None = self.connection.scalar(_LAST_EVENT, values)
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
