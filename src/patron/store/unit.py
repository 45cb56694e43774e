"""The unit of work: every capability's queries on one connection, in one transaction.

``SqlUnit`` is assembled from one query mixin per capability (each in the
store package named like the domain capability it serves); mypy checks it
against every port it is handed to (see :mod:`patron.domain.store`).
"""

from __future__ import annotations

from sqlalchemy import Connection

from patron.domain.changes import Change, Subscriptions
from patron.store.customers.queries import CustomerQueries
from patron.store.jobs.queries import JobQueries
from patron.store.people.queries import PeopleQueries
from patron.store.promotions.applications import ApplicationQueries
from patron.store.promotions.attributes import AttributeQueries
from patron.store.promotions.audiences import AudienceQueries
from patron.store.promotions.campaigns import CampaignQueries
from patron.store.promotions.coupons import CouponQueries
from patron.store.promotions.idempotency import IdempotencyQueries
from patron.store.promotions.inventory import InventoryQueries
from patron.store.promotions.loyalty import LoyaltyQueries
from patron.store.promotions.managers import ManagerQueries
from patron.store.promotions.profiles import ProfileQueries
from patron.store.promotions.referrals import ReferralQueries
from patron.store.promotions.rule_data import RuleDataQueries
from patron.store.promotions.sessions import SessionQueries
from patron.store.segments.customers.queries import CustomerSegmentQueries
from patron.store.segments.events.queries import EventSegmentQueries
from patron.store.tenancy.queries import TenancyQueries


class SqlUnit(
    TenancyQueries,
    PeopleQueries,
    CustomerQueries,
    EventSegmentQueries,
    CustomerSegmentQueries,
    JobQueries,
    ApplicationQueries,
    CampaignQueries,
    AudienceQueries,
    ReferralQueries,
    CouponQueries,
    LoyaltyQueries,
    ProfileQueries,
    InventoryQueries,
    AttributeQueries,
    ManagerQueries,
    SessionQueries,
    RuleDataQueries,
    IdempotencyQueries,
):
    """Implements every domain port with SQLAlchemy Core, on one connection."""

    def __init__(
        self, connection: Connection, subscriptions: Subscriptions[SqlUnit] | None = None
    ) -> None:
        super().__init__(connection)
        self.subscriptions = subscriptions

    def publish(self, change: Change) -> None:
        """Run the listeners of ``change`` now, with this unit (so in this transaction)."""
        if self.subscriptions is not None:
            self.subscriptions.dispatch(self, change)
