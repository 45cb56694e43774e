"""What one evaluation looks at: plain data the caller has gathered.

Nothing here reads storage. The caller (a later Integration API step) loads
the session, the profile, the coupons and referral the codes name, the
loyalty balances and the counters, and hands them over; the engine only
computes. Money and points are ``Decimal``; times are aware datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class CartItem:
    sku: str
    quantity: int
    price: Decimal
    name: str = ""
    category: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    position: int = 0  # the line's index in the session's cart
    additional_costs: Decimal = ZERO  # the line's own additional costs, summed

    @property
    def total(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True, slots=True)
class Session:
    """A customer session (Talon's cart). Totals are before any discount (SPEC §4.2-6)."""

    integration_id: str
    cart_items: tuple[CartItem, ...] = ()
    additional_costs: Decimal = ZERO  # the session's own additional costs, summed
    attributes: Mapping[str, Any] = field(default_factory=dict)
    state: str = "open"
    coupon_codes: tuple[str, ...] = ()
    referral_code: str = ""

    # Computed once, at construction: rules read them many times per evaluation.
    cart_item_total: Decimal = field(init=False, default=ZERO)
    additional_cost_total: Decimal = field(init=False, default=ZERO)
    total: Decimal = field(init=False, default=ZERO)

    def __post_init__(self) -> None:
        # An item's position is its index in the cart: per-item effects name it.
        if any(item.position != index for index, item in enumerate(self.cart_items)):
            items = tuple(replace(item, position=i) for i, item in enumerate(self.cart_items))
            object.__setattr__(self, "cart_items", items)
        items_total = sum((item.total for item in self.cart_items), ZERO)
        costs = self.additional_costs + sum((i.additional_costs for i in self.cart_items), ZERO)
        object.__setattr__(self, "cart_item_total", items_total)
        object.__setattr__(self, "additional_cost_total", costs)
        object.__setattr__(self, "total", items_total + costs)


@dataclass(frozen=True, slots=True)
class Profile:
    """The customer (``integration_id`` = the customer's external id; "" = anonymous)."""

    integration_id: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    audiences: tuple[Any, ...] = ()
    closed_sessions: int = 0
    total_sales: Decimal = ZERO
    # The customer's current Patron customer segments: id -> name.
    segments: Mapping[str, str] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return not self.integration_id


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # Set for an event that is not a session update (a custom or profile event):
    # what rules create for it (codes, loyalty transactions) derives from it too,
    # so each such event creates its own.
    key: str = ""


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon a session's code named, with the counters that decide its fate."""

    id: int
    code: str
    campaign_id: int
    usage_limit: int = 0  # 0: unlimited
    usage_counter: int = 0
    discount_limit: Decimal = ZERO  # 0: unlimited
    discount_counter: Decimal = ZERO
    per_profile_limit: int = 0  # redemptions per customer; 0: unlimited
    profile_redemptions: int = 0  # this session's customer's redemptions of it
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    recipient_integration_id: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    is_reservation_mandatory: bool = False
    implicitly_reserved: bool = False
    reserved_by: frozenset[str] = frozenset()  # integration ids holding a reservation


@dataclass(frozen=True, slots=True)
class Referral:
    id: int
    code: str
    campaign_id: int
    advocate_integration_id: str
    friend_integration_id: str = ""
    usage_limit: int = 0  # 0: unlimited
    usage_counter: int = 0
    start_date: datetime | None = None
    expiry_date: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    referred_customers: tuple[str, ...] = ()  # friends who used it, by integration id


@dataclass(frozen=True, slots=True)
class LoyaltyBalance:
    current: Decimal = ZERO
    pending: Decimal = ZERO
    expired: Decimal = ZERO
    spent: Decimal = ZERO
    tentative_current: Decimal | None = None  # None: the current balance
    negative: Decimal = ZERO  # points the customer owes (a rolled-back addition already spent)

    @property
    def tentative(self) -> Decimal:
        return self.current if self.tentative_current is None else self.tentative_current


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    """A loyalty program of the application, with this customer's balances in it."""

    id: int
    name: str = ""
    balance: LoyaltyBalance = LoyaltyBalance()  # the main ledger
    title: str = ""
    subledgers: Mapping[str, LoyaltyBalance] = field(default_factory=dict)
    default_pending: timedelta | None = None  # points become active this long after earning
    default_validity: timedelta | None = None  # and expire this long after that

    def ledger(self, subledger: str) -> LoyaltyBalance | None:
        return self.balance if not subledger else self.subledgers.get(subledger)


@dataclass(frozen=True, slots=True)
class Application:
    """A Talon.One application of a workspace: its campaigns run on the workspace's customers."""

    id: int
    name: str = ""
    currency: str = "USD"
    timezone: str = "UTC"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    # Talon's "partial discounts": a discount over its budget is cut to what
    # the budget has left instead of failing its rule.
    partial_discounts: bool = False
    workspace_id: str = ""
    description: str = ""
    # How coupon and referral codes compare: sensitive, insensitive-uppercase
    # or insensitive-lowercase (see ``codes.lookup_key``).
    case_sensitivity: str = "sensitive"
    # The rest of Talon's Application fields, kept as given (flattened cart
    # items, default discount scope, …).
    settings: Mapping[str, Any] = field(default_factory=dict)
    promotions_version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """How much of each limited action a campaign has used, overall and by this customer.

    Keyed by Talon's limit actions (``redeemCoupon``, ``redeemReferral``,
    ``setDiscount``, ``addLoyaltyPoints``, ``createCoupon``, ``createReferral``).
    """

    campaign: Mapping[str, Decimal] = field(default_factory=dict)
    profile: Mapping[str, Decimal] = field(default_factory=dict)


class EventHistory(Protocol):
    """The customer's past events, as rules may ask about them (Patron, beyond Talon).

    The caller answers from data it has already loaded (or from one cheap
    query it makes itself): evaluation stays a pure function of its inputs.
    """

    def count(self, event_type: str, since: datetime | None) -> int:
        """How many events of ``event_type`` the customer has had since ``since`` (None: ever)."""
        ...

    def last(self, event_type: str) -> datetime | None:
        """When the customer last had an event of ``event_type`` (None: never)."""
        ...


class NoHistory:
    """An anonymous customer's history: nothing."""

    def count(self, event_type: str, since: datetime | None) -> int:
        return 0

    def last(self, event_type: str) -> datetime | None:
        return None


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    application: Application
    session: Session
    profile: Profile = Profile()
    event: Event | None = None
    # The coupons the session's codes named, keyed by the code as the session
    # sent it (looked up honouring the application's case sensitivity).
    coupons: Mapping[str, Coupon] = field(default_factory=dict)
    referral: Referral | None = None  # the one the session's referral code named
    loyalty: Mapping[str, LoyaltyProgram] = field(
        default_factory=dict
    )  # by program id, as a string
    usage: Mapping[int, Usage] = field(default_factory=dict)  # by campaign id
    history: EventHistory = field(default_factory=NoHistory)
