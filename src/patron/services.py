"""The composition root: settings -> database -> store -> domain services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from patron.domain.changes import Subscriptions
from patron.domain.clock import utcnow
from patron.domain.customers import rows as customer_rows
from patron.domain.customers.service import CustomerService
from patron.domain.jobs.runner import AsyncActionService
from patron.domain.people.changes import (
    CustomerDeleted,
    CustomerErasing,
    EventsRecorded,
    ProfilesChanged,
)
from patron.domain.promotions.applications import ApplicationService
from patron.domain.promotions.attributes import AttributeService
from patron.domain.promotions.audiences import AudienceService
from patron.domain.promotions.cache import CampaignCache
from patron.domain.promotions.campaign_service import CampaignService
from patron.domain.promotions.coupons import CouponService
from patron.domain.promotions.idempotency import IdempotencyService
from patron.domain.promotions.loyalty_service import LoyaltyService
from patron.domain.promotions.managers import ManagerService
from patron.domain.promotions.profile_service import ProfileService
from patron.domain.promotions.profiles import erase_promotions_data
from patron.domain.promotions.referrals import ReferralService
from patron.domain.promotions.reservations import ReservationService
from patron.domain.promotions.sessions import SessionService
from patron.domain.segments.customers.membership import MembershipCache, MembershipListener
from patron.domain.segments.customers.service import CustomerSegmentService
from patron.domain.segments.customers.sweeper import SegmentSweeper
from patron.domain.segments.events.groups import SegmentGroupService
from patron.domain.segments.events.service import SegmentService
from patron.domain.tenancy.service import WorkspaceService
from patron.domain.tracking.service import TrackingService
from patron.observability.metrics import metrics
from patron.settings import Settings
from patron.store.database import Database, DatabaseUnreachable
from patron.store.sql_store import SqlStore
from patron.store.unit import SqlUnit


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a surface or the CLI calls, built once per process."""

    settings: Settings
    store: SqlStore
    workspaces: WorkspaceService
    tracking: TrackingService
    customers: CustomerService
    customer_segments: CustomerSegmentService
    segment_sweeper: SegmentSweeper
    segments: SegmentService
    segment_groups: SegmentGroupService
    async_actions: AsyncActionService[SqlUnit]
    # The promotions capability (Talon.One): built from the store and settings below.
    applications: ApplicationService = field(init=False)  # applications and their keys
    campaigns: CampaignService = field(init=False)  # campaigns and rulesets
    campaign_cache: CampaignCache = field(init=False)  # compiled campaigns, per application
    audiences: AudienceService = field(init=False)  # audiences (static customer segments)
    referrals: ReferralService = field(init=False)  # referral codes
    coupons: CouponService = field(init=False)  # a campaign's coupon codes
    reservations: ReservationService = field(init=False)  # who holds which coupon
    loyalty: LoyaltyService = field(init=False)  # loyalty programs and points ledgers
    profiles: ProfileService = field(init=False)  # Talon.One profiles: the workspace's customers
    attributes: AttributeService = field(init=False)  # declared custom attributes (Talon's)
    managers: ManagerService = field(init=False)  # Management API logins
    sessions: SessionService = field(init=False)  # session updates and events (evaluation)
    idempotency: IdempotencyService = field(init=False)  # Idempotency-Key of the other writes

    def __post_init__(self) -> None:
        store, settings = self.store, self.settings
        campaign_cache = CampaignCache()  # one per process, shared by whoever evaluates
        promotions = {
            "applications": ApplicationService(store, self.workspaces),
            "campaigns": CampaignService(store),
            "campaign_cache": campaign_cache,
            "audiences": AudienceService(store, lock_wait_ms=settings.talon_lock_wait_ms),
            "referrals": ReferralService(store),
            "coupons": CouponService(store),
            "reservations": ReservationService(store),
            "loyalty": LoyaltyService(store),
            "profiles": ProfileService(store, lock_wait_ms=settings.talon_lock_wait_ms),
            "attributes": AttributeService(store),
            "managers": ManagerService(store),
            "sessions": SessionService(
                store, campaign_cache, lock_wait_ms=settings.talon_lock_wait_ms
            ),
            "idempotency": IdempotencyService(store),
        }
        for name, service in promotions.items():
            object.__setattr__(self, name, service)  # frozen: set once, here

    async def close(self) -> None:
        await self.async_actions.stop()
        await self.segment_sweeper.stop()
        await self.store.close()


async def open_services(settings: Settings, *, migrate: bool = True, wait: bool = True) -> Services:
    """Connect to the database (migrating it first) and build the services.

    With ``wait`` (a server starting), a PostgreSQL server that is not
    reachable yet is waited for, up to ``settings.database_startup_timeout``
    seconds (see :meth:`Database.wait_until_reachable`); a one-shot command
    fails at once instead.
    """
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        if wait:
            await database.wait_until_reachable(settings.database_startup_timeout)
        if migrate:
            await asyncio.to_thread(database.migrate)
    except BaseException:
        database.dispose()
        raise
    memberships = MembershipCache()  # compiled customer segments, per workspace
    observer = metrics()  # the process's Prometheus metrics, told by the store and services
    store = SqlStore(
        database,
        subscriptions=subscriptions(memberships),
        queue_limit=settings.ingest_queue_limit,
        batch_limit=settings.commit_batch_limit,
        read_threads=4 if database.is_sqlite else 8,
        observer=observer,
    )
    apply_rows = customer_rows.apply_customer_rows
    return Services(
        settings=settings,
        store=store,
        workspaces=WorkspaceService(store, key_cache_seconds=settings.key_cache_seconds),
        tracking=TrackingService(store, observer=observer),
        customers=CustomerService(store),
        customer_segments=CustomerSegmentService(store, utcnow),
        segment_sweeper=SegmentSweeper(
            store,
            memberships,
            utcnow,
            interval=settings.segment_sweep_seconds,
            observer=observer,
        ),
        segments=SegmentService(store),
        segment_groups=SegmentGroupService(store),
        async_actions=AsyncActionService(
            store,
            {
                customer_rows.CSV_IMPORT: apply_rows,
                customer_rows.BULK_UPDATE: apply_rows,
                customer_rows.METADATA_UPDATE: apply_rows,
            },
            observer=observer,
        ),
    )


def wait_for_database(settings: Settings) -> None:
    """Before serving: wait for the database; if it never comes, exit with one line, not a trace."""
    if settings.is_sqlite:
        return
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        asyncio.run(database.wait_until_reachable(settings.database_startup_timeout))
    except DatabaseUnreachable as error:
        raise SystemExit(f"error: {error.message}") from None
    finally:
        database.dispose()


def subscriptions(memberships: MembershipCache) -> Subscriptions[SqlUnit]:
    """Who reacts to which change, in the transaction that makes it."""
    subscribed: Subscriptions[SqlUnit] = Subscriptions()
    membership = MembershipListener(memberships)
    subscribed.subscribe(ProfilesChanged, membership.profiles_changed)
    subscribed.subscribe(EventsRecorded, membership.events_recorded)
    subscribed.subscribe(CustomerDeleted, membership.customer_deleted)
    subscribed.subscribe(CustomerErasing, erase_promotions_data)
    return subscribed
