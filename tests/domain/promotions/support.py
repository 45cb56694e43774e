"""Building blocks for the promotions tests: contexts, campaigns, one-expression runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from patron.domain.promotions.campaigns import Campaign
from patron.domain.promotions.model import (
    Application,
    CartItem,
    EvaluationContext,
    Profile,
    Session,
)
from patron.domain.promotions.talang import Scope, compile_expression, compile_ruleset

if TYPE_CHECKING:
    from patron.domain.promotions.evaluate import Evaluation

NOW = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
APP = Application(1, "Shop", currency="EUR", timezone="Europe/Berlin")


def D(value: str | int) -> Decimal:  # reads like the literal it builds
    return Decimal(value)


def cart(*lines: tuple[str, int, str] | tuple[str, int, str, str]) -> tuple[CartItem, ...]:
    """Cart lines from (sku, quantity, price[, category])."""
    return tuple(
        CartItem(
            line[0],
            line[1],
            Decimal(line[2]),
            name=line[0].title(),
            category=line[3] if len(line) > 3 else "",
        )
        for line in lines
    )


def context(**changes: Any) -> EvaluationContext:
    """A context with a 80.00 cart (2 x 30 socks, 1 x 20 shoes) and customer cust-1."""
    session = changes.pop("session", None) or Session(
        "sess-1",
        cart_items=cart(("sock", 2, "30.00", "socks"), ("shoe", 1, "20.00", "shoes")),
        **changes.pop("session_fields", {}),
    )
    profile = changes.pop("profile", Profile("cust-1"))
    return EvaluationContext(changes.pop("application", APP), session, profile, **changes)


def rule(title: str, condition: list[Any], *effects: list[Any], **extra: Any) -> dict[str, Any]:
    return {"title": title, "condition": condition, "effects": list(effects), **extra}


def campaign(campaign_id: int, *rules: Mapping[str, Any], **settings: Any) -> Campaign:
    ruleset = compile_ruleset(
        {"rules": list(rules), "bindings": settings.pop("bindings", [])},
        ruleset_id=campaign_id * 100,
    )
    return Campaign(
        campaign_id, settings.pop("name", f"Campaign {campaign_id}"), ruleset, **settings
    )


def run(*campaigns: Campaign, now: datetime = NOW, **changes: Any) -> Evaluation:
    from patron.domain.promotions.evaluate import evaluate

    only = changes.pop("only", None)
    reasons = changes.pop("failure_reasons", True)
    return evaluate(
        context(**changes), campaigns, now, evaluable_campaign_ids=only, failure_reasons=reasons
    )


def value(expression: Any, scope: Scope | None = None) -> Any:
    """What one expression evaluates to (in the default context unless ``scope``)."""
    node = compile_expression(expression)
    return node.run(scope or make_scope())


def make_scope(**changes: Any) -> Scope:
    owner = changes.pop("campaign", None) or Campaign(
        9, "Nine", None, attributes={"tier": "x"}, tags=("spring",)
    )
    coupon = changes.pop("coupon", None)
    referral = changes.pop("referral", None)
    now = changes.pop("now", NOW)
    return Scope(context(**changes), owner, now, coupon=coupon, referral=referral)


def types(evaluation: Evaluation) -> list[str]:
    return [effect.effect_type for effect in evaluation.effects]
