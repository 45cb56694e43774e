"""What is left to give while one session is evaluated, and turning intents into effects.

Discounts come out of pools: the cart items (each line's price times quantity,
and their sum) and the additional costs. Totals never go below zero: a
discount larger than what its pool has left is cut to what is left, and the
effect carries the amount wanted as ``desiredValue``; later discounts see
only what remains. A ``sessionTotal`` discount takes from the cart items
first, then from the additional costs; an ``itemTotal`` one from the line's
price first, then from its costs.

Budgets are different: a campaign limit on ``setDiscount`` or
``addLoyaltyPoints`` (for the campaign, or per customer), a coupon's
``discountLimit``, a loyalty balance, a limit on created codes. An intent
over budget makes its whole rule fail (``EffectCouldNotBeApplied``) — unless
the application allows partial discounts, in which case discounts and
points are cut to the budget left (and still fail when nothing is left),
as Talon's "partial rewards" do.

A rule's intents apply together or not at all: the ledger journals every
change so :meth:`Ledger.rollback` undoes a rule that failed half-way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions import codes
from patron.domain.promotions.campaigns import Campaign, CodeSettings, LimitAction
from patron.domain.promotions.model import Coupon, EvaluationContext, LoyaltyProgram
from patron.domain.promotions.talang import EvaluationError

ZERO = Decimal(0)
DEFAULT_SETTINGS = CodeSettings()
_MISSING = object()


class NotApplicable(Exception):
    """An intent exceeds a budget or a limit: its rule does not fire."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


@dataclass(slots=True)
class Origin:
    """Where an intent comes from: what its effect needs to know of its rule.

    One per rule being applied; ``effect_index`` moves along its intents.
    """

    campaign: Campaign
    ruleset_id: int
    rule_index: int
    rule_title: str
    effect_index: int
    coupon: Coupon | None  # the coupon in scope if the rule tests it

    def seed(self, context: EvaluationContext, what: str) -> str:
        event = context.event
        session = context.session.integration_id
        return codes.origin(
            context.application.id,
            f"{session}@{event.key}" if event is not None and event.key else session,
            self.campaign.id,
            self.ruleset_id,
            self.rule_index,
            self.effect_index,
            what,
        )


@dataclass(frozen=True, slots=True)
class CreatedCode:
    """A coupon or referral code a rule created, for the caller to store (on commit)."""

    code: str
    campaign_id: int
    profile_id: str  # the coupon's recipient, or the referral's advocate
    friend_id: str = ""
    usage_limit: int = 1
    expiry: datetime | None = None
    seed: str = ""  # fill_pattern(pattern, characters, seed, attempt + 1) gives another code
    settings: CodeSettings = DEFAULT_SETTINGS


class Ledger:
    """The pools and budgets of one evaluation, with an undo journal."""

    def __init__(self, context: EvaluationContext, now: datetime) -> None:
        session = context.session
        self.context = context
        self.now = now
        self.currency = context.application.currency
        self.left: dict[Any, Decimal] = {"cart": session.cart_item_total}
        self.left["costs"] = session.additional_cost_total
        for index, item in enumerate(session.cart_items):
            self.left[("item", index)] = item.total
            self.left[("item costs", index)] = item.additional_costs
        self.used: dict[Any, Decimal] = {}  # budgets used in this evaluation
        self.created_coupons: list[CreatedCode] = []
        self.created_referrals: list[CreatedCode] = []
        self._journal: list[tuple[dict[Any, Decimal], Any, Any]] = []
        self._created = (0, 0)

    # -- the journal -----------------------------------------------------------------------

    def begin(self) -> None:
        self._journal.clear()
        self._created = (len(self.created_coupons), len(self.created_referrals))

    def rollback(self) -> None:
        for table, key, old in reversed(self._journal):
            if old is _MISSING:
                del table[key]
            else:
                table[key] = old
        self._journal.clear()
        del self.created_coupons[self._created[0] :]
        del self.created_referrals[self._created[1] :]

    def _set(self, table: dict[Any, Decimal], key: Any, value: Decimal) -> None:
        self._journal.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def set(self, table: dict[Any, Decimal], key: Any, value: Decimal) -> None:
        self._set(table, key, value)

    def available(self, pools: tuple[tuple[Any, ...], ...]) -> Decimal:
        """What is left in ``pools``: each a group of keys that a discount takes from at once
        (a line and the cart), so each group holds the least of its keys."""
        left = self.left
        total = ZERO
        for group in pools:
            if len(group) == 1:  # (most pools: the cart, or the costs)
                total += left[group[0]]
            else:
                total += min([left[key] for key in group])
        return total

    def take(self, pools: tuple[tuple[Any, ...], ...], amount: Decimal) -> None:
        """``amount`` out of ``pools``, in order (the caller checked it is there)."""
        left = self.left
        for group in pools:
            if not amount:
                return  # (a zero discount, or taken in full from an earlier pool)
            taken = min(amount, *[left[key] for key in group])
            if not taken:
                continue  # (this pool is empty: nothing to journal)
            for key in group:
                self._set(left, key, left[key] - taken)
            amount -= taken

    # -- budgets ---------------------------------------------------------------------------

    def room(self, origin: Origin, action: LimitAction) -> tuple[Decimal | None, str]:
        """What the campaign's (and customer's) budgets for ``action`` have left, and which."""
        best: tuple[Decimal | None, str] = (None, "")
        limits = origin.campaign.limits_of(action)
        coupon = origin.coupon
        if not limits and (coupon is None or action is not LimitAction.SET_DISCOUNT):
            return best  # the common case: nothing limits this effect
        usage = self.context.usage.get(origin.campaign.id)
        for limit in limits:
            if limit.limit <= 0:
                continue
            counters = (usage.profile if limit.per_profile else usage.campaign) if usage else {}
            spent = counters.get(action.value, ZERO) + self.used.get(self._key(origin, limit), ZERO)
            left = limit.limit - spent
            if best[0] is None or left < best[0]:
                whose = "this customer's" if limit.per_profile else "the campaign's"
                best = (left, f"{whose} {action.value} budget")
        if action is LimitAction.SET_DISCOUNT and coupon and coupon.discount_limit > 0:
            spent = coupon.discount_counter + self.used.get(("coupon", coupon.id), ZERO)
            left = coupon.discount_limit - spent
            if best[0] is None or left < best[0]:
                best = (left, "the coupon's discount limit")
        return best

    def _key(self, origin: Origin, limit: Any) -> Any:
        return (origin.campaign.id, limit.action, limit.per_profile)

    def spend(self, origin: Origin, action: LimitAction, amount: Decimal) -> None:
        limits = origin.campaign.limits_of(action)
        if not limits and origin.coupon is None:
            return  # the common case: nothing counts this effect
        for limit in limits:
            key = self._key(origin, limit)
            self._set(self.used, key, self.used.get(key, ZERO) + amount)
        coupon = origin.coupon
        if action is LimitAction.SET_DISCOUNT and coupon is not None:
            key = ("coupon", coupon.id)
            self._set(self.used, key, self.used.get(key, ZERO) + amount)

    def within_budget(
        self, origin: Origin, action: LimitAction, amount: Decimal, partial: bool
    ) -> Decimal:
        """``amount``, or as much of it as the budgets allow (partial), or NotApplicable."""
        left, which = self.room(origin, action)
        if left is None or amount <= left:
            return amount
        if partial and left > 0:
            return left
        raise NotApplicable(f"{which} has {max(left, ZERO)} left, {amount} wanted")

    # -- intents ---------------------------------------------------------------------------

    def program(self, program_id: str) -> LoyaltyProgram:
        program = self.context.loyalty.get(program_id)
        if program is None:
            raise EvaluationError(f"no loyalty program {program_id} in this application")
        return program

    def customer(self, what: str) -> str:
        profile = self.context.profile
        if profile.anonymous:
            raise NotApplicable(f"{what} needs a customer, and the session has none")
        return profile.integration_id
