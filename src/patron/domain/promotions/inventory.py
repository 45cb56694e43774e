"""What a customer holds: coupons, referral codes and loyalty balances.

Talon's ``GET /v1/customer_profiles/{id}/inventory`` shows them for the
calling application; Voucherify's ``GET /v1/customers/{id}/redeemables`` for
the whole workspace. Both read the same rows: coupons reserved for the
customer or addressed to them (``recipient``), redeemed ones included;
referral codes they advocate; the loyalty ledgers that name them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from patron.domain.promotions.model import ZERO, LoyaltyBalance


class CodeState(StrEnum):
    """Talon's inventory coupon states."""

    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    PENDING = "pending"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class HeldCoupon:
    """A coupon in a customer's inventory, with their own redemptions of it."""

    id: int
    application_id: int
    campaign_id: int
    campaign_name: str
    campaign_enabled: bool
    value: str
    created: datetime
    usage_limit: int = 0
    usage_counter: int = 0
    discount_limit: Decimal = ZERO
    discount_counter: Decimal = ZERO
    per_profile_limit: int = 0
    reservation_limit: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient_integration_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    batch_id: str | None = None
    is_reservation_mandatory: bool = False
    implicitly_reserved: bool = False
    reserved: bool = False  # the customer holds a reservation of it
    profile_redemptions: int = 0

    def state(self, now: datetime) -> CodeState:
        used = 0 < self.per_profile_limit <= self.profile_redemptions
        return code_state(self, now, used_by_profile=used)


@dataclass(frozen=True, slots=True)
class HeldReferral:
    """A referral code the customer advocates, and the friends who used it."""

    id: int
    application_id: int
    campaign_id: int
    campaign_name: str
    campaign_enabled: bool
    code: str
    created: datetime
    advocate_integration_id: str
    friend_integration_id: str | None = None
    usage_limit: int = 0
    usage_counter: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    batch_id: str | None = None
    referred_customers: tuple[str, ...] = ()

    def state(self, now: datetime) -> CodeState:
        return code_state(self, now)


class _Code(Protocol):
    @property
    def campaign_enabled(self) -> bool: ...
    @property
    def start_date(self) -> datetime | None: ...
    @property
    def expiry_date(self) -> datetime | None: ...
    @property
    def usage_limit(self) -> int: ...
    @property
    def usage_counter(self) -> int: ...


def code_state(code: _Code, now: datetime, *, used_by_profile: bool = False) -> CodeState:
    """A held coupon's or referral's state: the first of disabled, expired, pending, used."""
    if not code.campaign_enabled:
        return CodeState.DISABLED
    if code.expiry_date is not None and code.expiry_date <= now:
        return CodeState.EXPIRED
    if code.start_date is not None and code.start_date > now:
        return CodeState.PENDING
    if 0 < code.usage_limit <= code.usage_counter or used_by_profile:
        return CodeState.USED
    return CodeState.ACTIVE


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One row of a loyalty ledger, as the balance needs it."""

    subledger_id: str  # "": the main ledger
    type: str  # addition, subtraction
    amount: Decimal
    remaining: Decimal
    start_date: datetime | None
    expiry_date: datetime | None
    created: datetime


@dataclass(frozen=True, slots=True)
class ProgramLedger:
    """A loyalty program with the entries of one customer's ledgers in it."""

    id: int
    name: str
    title: str
    subscribed_applications: tuple[int, ...]
    created: datetime
    entries: tuple[LedgerEntry, ...]


@dataclass(frozen=True, slots=True)
class ProgramBalance:
    id: int
    name: str
    title: str
    created: datetime
    joined: datetime | None
    balance: LoyaltyBalance
    subledgers: Mapping[str, LoyaltyBalance]


class InventoryReader(Protocol):
    """Read queries of a customer's holdings (``application_id`` None: every application)."""

    def held_coupons(
        self,
        workspace_id: str,
        integration_id: str,
        application_id: int | None,
        *,
        implicit: bool,
    ) -> list[HeldCoupon]:
        """Coupons reserved for the profile or addressed to it, oldest first; with
        ``implicit``, also the application's implicitly reserved coupons."""
        ...

    def held_referrals(
        self, workspace_id: str, integration_id: str, application_id: int | None
    ) -> list[HeldReferral]:
        """Referral codes the profile advocates, oldest first."""
        ...

    def loyalty_ledgers(self, workspace_id: str, integration_id: str) -> list[ProgramLedger]:
        """The workspace's loyalty programs whose ledgers name the profile, by id."""
        ...


def balance(entries: Sequence[LedgerEntry], now: datetime) -> LoyaltyBalance:
    """Current, pending, expired and spent points of one ledger at ``now``.

    An addition counts what is left of it (``remaining``): pending before its
    start date, expired from its expiry date, current in between. A
    subtraction's amount is spent.
    """
    current = pending = expired = spent = ZERO
    for entry in entries:
        if entry.type != "addition":
            spent += entry.amount
        elif entry.expiry_date is not None and entry.expiry_date <= now:
            expired += entry.remaining
        elif entry.start_date is not None and entry.start_date > now:
            pending += entry.remaining
        else:
            current += entry.remaining
    return LoyaltyBalance(current=current, pending=pending, expired=expired, spent=spent)


def program_balances(
    ledgers: Sequence[ProgramLedger], now: datetime, application_id: int | None = None
) -> list[ProgramBalance]:
    """Each program's balances (those ``application_id`` subscribes to, if given)."""
    found = []
    for ledger in ledgers:
        if application_id is not None and application_id not in ledger.subscribed_applications:
            continue
        by_ledger: dict[str, list[LedgerEntry]] = {}
        for entry in ledger.entries:
            by_ledger.setdefault(entry.subledger_id, []).append(entry)
        main = balance(by_ledger.pop("", []), now)
        joined = min((entry.created for entry in ledger.entries), default=None)
        subledgers = {name: balance(entries, now) for name, entries in sorted(by_ledger.items())}
        found.append(
            ProgramBalance(ledger.id, ledger.name, ledger.title, ledger.created, joined, main,
                           subledgers)
        )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Holdings:
    """What one customer holds (a part not asked for is None)."""

    coupons: list[HeldCoupon] | None = None
    referrals: list[HeldReferral] | None = None
    loyalty: list[ProgramBalance] | None = None


def read_holdings(
    reader: InventoryReader,
    workspace_id: str,
    integration_id: str,
    now: datetime,
    *,
    application_id: int | None,
    coupons: bool = True,
    referrals: bool = True,
    loyalty: bool = True,
) -> Holdings:
    """The asked-for parts; for one application (Talon) or the whole workspace (None)."""
    return Holdings(
        coupons=reader.held_coupons(
            workspace_id, integration_id, application_id, implicit=application_id is not None
        )
        if coupons
        else None,
        referrals=reader.held_referrals(workspace_id, integration_id, application_id)
        if referrals
        else None,
        loyalty=program_balances(
            reader.loyalty_ledgers(workspace_id, integration_id), now, application_id
        )
        if loyalty
        else None,
    )
