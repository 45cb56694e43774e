"""What evaluating sessions needs from storage, and the session as stored.

Two groups of store methods: the sessions part's own (sessions, campaign
usage counters, locks; idempotent answers in :mod:`.idempotency`) and the ones other parts of
promotions own and the pipeline calls across (coupons, referrals, loyalty,
audiences — see their modules for what each guarantees).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from patron.domain.people.ports import CustomerReader
from patron.domain.promotions.applications import ApplicationUnit
from patron.domain.promotions.audiences import Audience
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.idempotency import IdempotencyUnit
from patron.domain.promotions.locks import LockUnit
from patron.domain.promotions.loyalty_service import PointsLedger
from patron.domain.promotions.model import Coupon, Referral, Usage
from patron.domain.promotions.ports import CampaignReader
from patron.domain.promotions.profiles import ProfileWriter
from patron.domain.promotions.rule_ports import RuleDataQueries
from patron.domain.tracking.ports import TrackingUnit


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A customer session as its last update left it."""

    id: int  # 0: not stored yet
    application_id: int
    workspace_id: str
    integration_id: str
    profile_id: str  # "": anonymous
    state: str
    data: Mapping[str, Any]  # the request fields merged so far (see session_request)
    total: Decimal
    first_session: bool
    update_count: int
    effects: Sequence[Mapping[str, Any]]  # the current effects, as Talon's JSON
    committed: Mapping[str, Any] | None  # what closing did (see session_commit)
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    last_request: str = ""  # the digest of the request that made this state


@dataclass(frozen=True, slots=True)
class ProfileTotals:
    closed_sessions: int = 0
    total_sales: Decimal = Decimal(0)
    segments: Mapping[str, str] = field(default_factory=dict)  # Patron segments: id -> name


class SessionQueries(Protocol):
    """The sessions part's own storage."""

    def get_customer_session(
        self, application_id: int, integration_id: str
    ) -> StoredSession | None: ...

    def open_session_of_profile(self, application_id: int, profile_id: str) -> StoredSession | None:
        """The profile's most recently updated open session in the application."""
        ...

    def latest_session_of_profile(
        self, application_id: int, profile_id: str
    ) -> StoredSession | None:
        """The profile's most recently updated session in the application, in any state."""
        ...

    def save_customer_session(self, session: StoredSession) -> int:
        """Insert (id 0) or update the session; return its id."""
        ...

    def has_sessions(self, workspace_id: str, profile_id: str) -> bool: ...

    def profile_totals(self, workspace_id: str, customer_id: str, profile_id: str) -> ProfileTotals:
        """Closed sessions, total sales (of closed sessions) and the customer's segments."""
        ...

    def campaign_usage(
        self, campaign_ids: Collection[int], profile_id: str
    ) -> dict[int, Usage]: ...

    def take_campaign_usage(
        self,
        campaign_id: int,
        action: str,
        profile_id: str,
        amount: Decimal,
        limit: Decimal | None,
    ) -> bool:
        """Add ``amount`` to the counter (``profile_id`` "": the campaign's own) unless
        that would pass ``limit`` (None: no limit); False, changing nothing, if it would."""
        ...

    def return_campaign_usage(
        self, campaign_id: int, action: str, profile_id: str, amount: Decimal
    ) -> None: ...


class CrossPartQueries(Protocol):
    """Methods other parts of promotions own (coupons, referrals, loyalty, audiences)."""

    def coupons_for_codes(
        self, application_id: int, case_sensitivity: str, codes: Sequence[str], integration_id: str
    ) -> dict[str, Coupon]: ...

    def redeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> str | None:
        """None when redeemed; else the rejection reason, and nothing changed."""
        ...

    def unredeem_coupon(self, coupon_id: int, integration_id: str, discount: Decimal) -> None: ...

    def referral_for_code(
        self, application_id: int, case_sensitivity: str, code: str
    ) -> Referral | None: ...

    def redeem_referral(self, referral_id: int, friend_integration_id: str) -> str | None: ...

    def unredeem_referral(self, referral_id: int, friend_integration_id: str) -> None: ...

    def audience_ids_of(self, workspace_id: str, customer_id: str) -> tuple[int, ...]: ...

    def audiences_by_ids(self, workspace_id: str, ids: Iterable[int]) -> dict[int, Audience]: ...


class SessionUnit(
    ApplicationUnit,
    CampaignReader,
    ProfileWriter,
    TrackingUnit,
    CustomerReader,
    SessionQueries,
    LockUnit,
    IdempotencyUnit,
    CrossPartQueries,
    PointsLedger,
    RuleDataQueries,
    Protocol,
):
    """Everything one session update reads and writes, in one transaction."""

    def get_campaign(self, application_id: int, campaign_id: int) -> CampaignRecord | None: ...
