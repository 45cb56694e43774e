"""The queries of customer sessions, campaign usage and promotion locks.

Locks (PostgreSQL): transaction-scoped advisory locks, one number per key
(a session of an application, a profile of a workspace), taken with
``lock_timeout`` set to the configured wait inside a savepoint, so a lock
that stays held fails only that attempt (the caller answers 409) and
leaves the transaction usable. SQLite has one writer: nothing to wait for.

Usage counters only grow by conditional updates (``used + n <= limit``),
so two processes closing sessions at once can never pass a limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, func, insert, literal, select, text, true, update
from sqlalchemy.exc import DBAPIError

from patron.domain.promotions.model import Usage
from patron.domain.promotions.session_ports import ProfileTotals, StoredSession
from patron.store.promotions.tables import campaign_usage, customer_sessions
from patron.store.schema import customer_segments, segment_members
from patron.store.types import Amount
from patron.store.unit_base import UnitBase

LOCK_NOT_AVAILABLE = "55P03"
_LAST_REQUEST = "_lastRequest"  # kept in ``data`` beside the session's fields


def promotion_lock_number(key: str) -> int:
    """The advisory lock number of a key (a signed 64-bit integer)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class SessionQueries(UnitBase):
    """Implements :class:`~patron.domain.promotions.session_ports.SessionQueries`."""

    def lock_promotion_keys(self, keys: Sequence[str], wait_ms: int) -> bool:
        if not self.is_postgres:
            return True
        numbers = sorted(promotion_lock_number(key) for key in keys)  # one order: no deadlock
        previous = self.connection.scalar(text("SELECT current_setting('lock_timeout')"))
        try:
            with self.connection.begin_nested():
                if wait_ms <= 0:
                    return all(
                        self.connection.scalar(
                            text("SELECT pg_try_advisory_xact_lock(:n)"), {"n": number}
                        )
                        for number in numbers
                    )
                self.connection.execute(
                    text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{wait_ms}ms"}
                )
                for number in numbers:
                    self.connection.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return False
            raise
        finally:
            self.connection.execute(
                text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous}
            )
        return True

    # -- sessions --------------------------------------------------------------------

    def get_customer_session(
        self, application_id: int, integration_id: str
    ) -> StoredSession | None:
        query = select(customer_sessions).where(
            customer_sessions.c.application_id == application_id,
            customer_sessions.c.integration_id == integration_id,
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _session(row)

    def open_session_of_profile(self, application_id: int, profile_id: str) -> StoredSession | None:
        query = (
            select(customer_sessions)
            .where(
                customer_sessions.c.application_id == application_id,
                customer_sessions.c.profile_integration_id == profile_id,
                customer_sessions.c.state == "open",
            )
            .order_by(customer_sessions.c.updated_at.desc(), customer_sessions.c.id.desc())
            .limit(1)
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _session(row)

    def save_customer_session(self, session: StoredSession) -> int:
        values = {
            "application_id": session.application_id,
            "workspace_id": session.workspace_id,
            "integration_id": session.integration_id,
            "profile_integration_id": session.profile_id,
            "state": session.state,
            "data": {**session.data, _LAST_REQUEST: session.last_request},
            "total": session.total,
            "first_session": int(session.first_session),
            "update_count": session.update_count,
            "effects": list(session.effects),
            "committed": None if session.committed is None else dict(session.committed),
            "created_at": session.created_at,
            "updated_at": session.updated_at,
            "closed_at": session.closed_at,
        }
        if session.id:
            self.connection.execute(
                update(customer_sessions).where(customer_sessions.c.id == session.id).values(values)
            )
            return session.id
        query = insert(customer_sessions).values(values).returning(customer_sessions.c.id)
        return int(self.connection.execute(query).scalar_one())

    def has_sessions(self, workspace_id: str, profile_id: str) -> bool:
        query = (
            select(customer_sessions.c.id)
            .where(
                customer_sessions.c.workspace_id == workspace_id,
                customer_sessions.c.profile_integration_id == profile_id,
            )
            .limit(1)
        )
        return self.connection.scalar(query) is not None

    def profile_totals(self, workspace_id: str, customer_id: str, profile_id: str) -> ProfileTotals:
        total = func.coalesce(func.sum(customer_sessions.c.total), 0, type_=BigInteger)
        query = select(func.count(), total).where(
            customer_sessions.c.workspace_id == workspace_id,
            customer_sessions.c.profile_integration_id == profile_id,
            customer_sessions.c.state == "closed",
        )
        count, millionths = self.connection.execute(query).one()
        names = (
            select(customer_segments.c.id, customer_segments.c.name)
            .join(segment_members, segment_members.c.segment_id == customer_segments.c.id)
            .where(segment_members.c.customer_id == customer_id)
        )
        segments = {row[0]: row[1] for row in self.connection.execute(names)}
        # SUM over the Amount column comes back as raw millionths.
        return ProfileTotals(int(count), Decimal(int(millionths)) / 1_000_000 + 0, segments)

    # -- campaign usage ----------------------------------------------------------------

    def campaign_usage(self, campaign_ids: Collection[int], profile_id: str) -> dict[int, Usage]:
        if not campaign_ids:
            return {}
        who = [""] + ([profile_id] if profile_id else [])
        query = select(campaign_usage).where(
            campaign_usage.c.campaign_id.in_(list(campaign_ids)),
            campaign_usage.c.integration_id.in_(who),
        )
        found: dict[int, tuple[dict[str, Decimal], dict[str, Decimal]]] = {}
        for row in self.connection.execute(query).mappings():
            overall, mine = found.setdefault(row["campaign_id"], ({}, {}))
            (mine if row["integration_id"] else overall)[row["action"]] = row["used"]
        return {cid: Usage(overall, mine) for cid, (overall, mine) in found.items()}

    def take_campaign_usage(
        self,
        campaign_id: int,
        action: str,
        profile_id: str,
        amount: Decimal,
        limit: Decimal | None,
    ) -> bool:
        key = _usage_key(campaign_id, action, profile_id)
        # (The sum is typed as the column's storage: the limit is bound as an Amount too.)
        within = true() if limit is None else campaign_usage.c.used + amount <= _amount(limit)
        raised = self.connection.execute(
            update(campaign_usage).where(key, within).values(used=campaign_usage.c.used + amount)
        )
        if raised.rowcount == 1:
            return True
        if self.connection.scalar(select(campaign_usage.c.used).where(key)) is not None:
            return False  # there, and this would pass the limit
        if limit is not None and amount > limit:
            return False
        # A first use (another process inserting it at once: the store retries the work).
        self.connection.execute(
            insert(campaign_usage).values(
                campaign_id=campaign_id, action=action, integration_id=profile_id, used=amount
            )
        )
        return True

    def return_campaign_usage(
        self, campaign_id: int, action: str, profile_id: str, amount: Decimal
    ) -> None:
        self.connection.execute(
            update(campaign_usage)
            .where(_usage_key(campaign_id, action, profile_id), campaign_usage.c.used >= amount)
            .values(used=campaign_usage.c.used - amount)
        )


def _amount(value: Decimal) -> Any:
    return literal(value, Amount())


def _usage_key(campaign_id: int, action: str, profile_id: str) -> Any:
    return and_(
        campaign_usage.c.campaign_id == campaign_id,
        campaign_usage.c.action == action,
        campaign_usage.c.integration_id == profile_id,
    )


def _session(row: Any) -> StoredSession:
    data = dict(row["data"])
    last_request = str(data.pop(_LAST_REQUEST, ""))
    return StoredSession(
        id=row["id"],
        application_id=row["application_id"],
        workspace_id=row["workspace_id"],
        integration_id=row["integration_id"],
        profile_id=row["profile_integration_id"],
        state=row["state"],
        data=data,
        total=row["total"],
        first_session=bool(row["first_session"]),
        update_count=row["update_count"],
        effects=list(row["effects"]),
        committed=row["committed"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        last_request=last_request,
    )
