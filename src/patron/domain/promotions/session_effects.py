"""Effects as documents: Talon's ``Effect`` JSON, as a session stores and answers them.

A session keeps its current effects (and what closing committed) as these
documents, so a replayed answer and a rollback need nothing but the row.
Amounts are JSON numbers (whole amounts as integers), times RFC 3339 UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions import effects as fx

DISCOUNTS = ("setDiscount", "setDiscountPerItem")


_AS_IS = frozenset({str, int, bool, float, type(None)})


def plain(value: Any) -> Any:
    """``value`` with Decimals as numbers and datetimes as RFC 3339 text, recursively."""
    if type(value) in _AS_IS:  # most values: one set lookup, no abstract-class checks
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def effect_document(effect: fx.Effect) -> dict[str, Any]:
    document: dict[str, Any] = {
        "campaignId": effect.campaign_id,
        "rulesetId": effect.ruleset_id,
        "ruleIndex": effect.rule_index,
        "ruleName": effect.rule_name,
        "effectType": effect.effect_type,
        "props": {name: plain(value) for name, value in effect.props.props().items()},
    }
    if effect.triggered_by_coupon is not None:
        document["triggeredByCoupon"] = effect.triggered_by_coupon
    if effect.condition_index is not None:
        document["conditionIndex"] = effect.condition_index
    return document


def derived(
    source: Mapping[str, Any], effect_type: str, props: Mapping[str, Any]
) -> dict[str, Any]:
    """An effect of ``effect_type`` from the same campaign and rule as ``source``."""
    document = {key: source[key] for key in ("campaignId", "rulesetId", "ruleIndex", "ruleName")}
    document["effectType"] = effect_type
    document["props"] = plain(dict(props))
    if "triggeredByCoupon" in source:
        document["triggeredByCoupon"] = source["triggeredByCoupon"]
    return document


def amount(document: Mapping[str, Any]) -> Decimal:
    """The ``value`` of an effect's props as an exact Decimal."""
    return Decimal(str(document["props"].get("value", 0)))


def discounts(documents: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Discount name -> amount, as v1's ``session.discounts`` shows them."""
    found: dict[str, Decimal] = {}
    for document in documents:
        if document["effectType"] in DISCOUNTS:
            name = str(document["props"]["name"])
            found[name] = found.get(name, Decimal(0)) + amount(document)
    return found
