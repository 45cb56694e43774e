"""Each intent kind applied to the ledger: the effect it becomes (see :mod:`.ledger`)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from patron.domain.promotions import codes
from patron.domain.promotions import effects as fx
from patron.domain.promotions.campaigns import LimitAction
from patron.domain.promotions.ledger import CreatedCode, Ledger, NotApplicable, Origin
from patron.domain.promotions.money import round_money, round_points
from patron.domain.promotions.talang import EvaluationError
from patron.domain.promotions.talang import intents as i

ONE = Decimal(1)
DISCOUNT_POOLS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "sessionTotal": (("cart",), ("costs",)),
    "cartItems": (("cart",),),
    "additionalCosts": (("costs",),),
}


def grant(ledger: Ledger, intent: Any, origin: Origin) -> fx.EffectProps | None:
    """The effect of ``intent`` (None for a noop); NotApplicable over a budget."""
    handler = _HANDLERS.get(type(intent))
    if handler is None:
        raise EvaluationError(f"{type(intent).__name__} is not an effect")
    return handler(ledger, intent, origin)


def _discount(ledger: Ledger, intent: i.Discount, origin: Origin) -> fx.SetDiscount:
    value, desired = _cut(ledger, origin, intent.value, DISCOUNT_POOLS[intent.scope])
    return fx.SetDiscount(intent.name, value, intent.scope, desired)


def _item_discount(ledger: Ledger, intent: i.ItemDiscount, origin: Origin) -> fx.SetDiscountPerItem:
    position = intent.position
    if position >= len(ledger.context.session.cart_items):
        raise EvaluationError(f"no cart item at position {position}")
    value, desired = _cut(ledger, origin, intent.value, _item_pools(position, intent.scope))
    name = intent.name if "#" in intent.name else f"{intent.name}#{position}"
    return fx.SetDiscountPerItem(name, value, position, intent.scope, desired)


@lru_cache(maxsize=4096)  # (one tuple per line and scope, not one per discount)
def _item_pools(position: int, scope: str) -> tuple[tuple[Any, ...], ...]:
    """The pools a discount on one cart line takes from (see :mod:`.ledger`)."""
    price = (("item", position), "cart")
    costs = (("item costs", position), "costs")
    if scope == "price":
        return (price,)
    if scope == "itemTotal":
        return (price, costs)
    if scope == "additionalCosts":
        return (costs,)
    raise KeyError(scope)


def _cut(
    ledger: Ledger, origin: Origin, amount: Decimal, pools: tuple[tuple[Any, ...], ...]
) -> tuple[Decimal, Decimal | None]:
    """The discount given (within budget, within what is left) and, if less, the one wanted."""
    wanted = round_money(amount, ledger.currency)
    partial = ledger.context.application.partial_discounts
    allowed = ledger.within_budget(origin, LimitAction.SET_DISCOUNT, wanted, partial)
    value = min(allowed, ledger.available(pools))
    ledger.take(pools, value)
    ledger.spend(origin, LimitAction.SET_DISCOUNT, value)
    return value, (wanted if value < wanted else None)


def _add_points(ledger: Ledger, intent: i.AddPoints, origin: Origin) -> fx.AddLoyaltyPoints:
    program = ledger.program(intent.program_id)
    recipient = ledger.customer("adding loyalty points")
    wanted = round_points(intent.value)
    partial = ledger.context.application.partial_discounts
    value = ledger.within_budget(origin, LimitAction.ADD_LOYALTY_POINTS, wanted, partial)
    ledger.spend(origin, LimitAction.ADD_LOYALTY_POINTS, value)
    start = ledger.now + program.default_pending if program.default_pending else None
    validity = program.default_validity
    expiry = (start or ledger.now) + validity if validity else None
    return fx.AddLoyaltyPoints(
        name=intent.name or origin.rule_title,
        program_id=program.id,
        sub_ledger_id=intent.subledger,
        value=value,
        recipient_integration_id=recipient,
        transaction_uuid=codes.transaction_uuid(origin.seed(ledger.context, "add points")),
        start_date=start,
        expiry_date=expiry,
        desired_value=wanted if value < wanted else None,
    )


def _deduct_points(
    ledger: Ledger, intent: i.DeductPoints, origin: Origin
) -> fx.DeductLoyaltyPoints:
    program = ledger.program(intent.program_id)
    ledger.customer("spending loyalty points")
    balance = program.ledger(intent.subledger)
    key = ("points", program.id, intent.subledger)
    spent = ledger.used.get(key, Decimal(0))
    available = (balance.current if balance else Decimal(0)) - spent
    value = round_points(intent.value)
    if value > available:
        raise NotApplicable(
            f"{value} points wanted, {available} available in loyalty program {program.id}"
        )
    ledger.set(ledger.used, key, spent + value)
    return fx.DeductLoyaltyPoints(
        rule_title=origin.rule_title,
        program_id=program.id,
        sub_ledger_id=intent.subledger,
        value=value,
        transaction_uuid=codes.transaction_uuid(origin.seed(ledger.context, "deduct points")),
        name=intent.name or origin.rule_title,
    )


def _create_coupon(ledger: Ledger, intent: i.CreateCoupon, origin: Origin) -> fx.CouponCreated:
    recipient = intent.recipient or ledger.customer("creating a coupon")
    ledger.within_budget(origin, LimitAction.CREATE_COUPON, ONE, partial=False)
    ledger.spend(origin, LimitAction.CREATE_COUPON, ONE)
    settings = origin.campaign.coupon_settings
    seed = origin.seed(ledger.context, "coupon")
    code = codes.fill_pattern(settings.pattern, settings.valid_characters, seed)
    created = CreatedCode(
        code,
        origin.campaign.id,
        recipient,
        usage_limit=settings.usage_limit,
        expiry=intent.expiry,
        seed=seed,
        settings=settings,
    )
    ledger.created_coupons.append(created)
    return fx.CouponCreated(code, recipient)


def _create_referral(
    ledger: Ledger, intent: i.CreateReferral, origin: Origin
) -> fx.ReferralCreated:
    advocate = ledger.customer("creating a referral")
    ledger.within_budget(origin, LimitAction.CREATE_REFERRAL, ONE, partial=False)
    ledger.spend(origin, LimitAction.CREATE_REFERRAL, ONE)
    settings = origin.campaign.referral_settings
    seed = origin.seed(ledger.context, "referral")
    code = codes.fill_pattern(settings.pattern, settings.valid_characters, seed)
    created = CreatedCode(
        code,
        origin.campaign.id,
        advocate,
        friend_id=intent.friend,
        usage_limit=settings.usage_limit,
        seed=seed,
        settings=settings,
    )
    ledger.created_referrals.append(created)
    return fx.ReferralCreated(code)


_HANDLERS: dict[type, Callable[[Ledger, Any, Origin], fx.EffectProps | None]] = {
    i.Discount: _discount,
    i.ItemDiscount: _item_discount,
    i.AddPoints: _add_points,
    i.DeductPoints: _deduct_points,
    i.CreateCoupon: _create_coupon,
    i.CreateReferral: _create_referral,
    i.Notification: lambda _l, n, _o: fx.ShowNotification(n.type, n.title, n.body),
    i.Custom: lambda _l, c, _o: fx.CustomEffect(c.effect_id, c.name, dict(c.payload)),
    i.FreeItem: lambda _l, f, _o: fx.AddFreeItem(f.sku, f.name, f.quantity),
    i.UpdateAttribute: lambda _l, u, _o: fx.UpdateAttribute(u.path, u.value),
    i.RuleError: lambda _l, e, _o: fx.Error(e.message),
    i.Noop: lambda _l, _n, _o: None,
}
