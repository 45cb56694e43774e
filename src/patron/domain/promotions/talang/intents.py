"""What a rule's effect functions return: intents, turned into effects by the engine.

An effect function does nothing by itself: ``["setDiscount", "10% off", x]``
evaluates to ``Discount("10% off", x)``. The engine then applies a rule's
intents together — against what is left of the cart and of each budget — and
either emits them all as effects or, if one cannot be applied, none.

Intents are never changed once built but, like the effects they become,
they are plain dataclasses: a frozen one costs four times as much to build,
and a session builds hundreds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar


class Intent:
    is_intent: ClassVar[bool] = True


@dataclass(slots=True)
class Discount(Intent):
    """``setDiscount``: off the session total, the cart items or the additional costs."""

    name: str
    value: Decimal
    scope: str = "sessionTotal"


@dataclass(slots=True)
class ItemDiscount(Intent):
    """``setDiscountPerItem``: off one cart line (its price, its total or its costs)."""

    name: str
    value: Decimal
    position: int
    scope: str = "price"


@dataclass(slots=True)
class AddPoints(Intent):
    program_id: str
    value: Decimal
    name: str = ""
    subledger: str = ""


@dataclass(slots=True)
class DeductPoints(Intent):
    program_id: str
    value: Decimal
    name: str = ""
    subledger: str = ""


@dataclass(slots=True)
class CreateCoupon(Intent):
    recipient: str | None = None  # None: the session's customer
    expiry: datetime | None = None


@dataclass(slots=True)
class CreateReferral(Intent):
    friend: str = ""


@dataclass(slots=True)
class Notification(Intent):
    type: str
    title: str
    body: str


@dataclass(slots=True)
class Custom(Intent):
    name: str
    payload: Mapping[str, Any]
    effect_id: int = 0


@dataclass(slots=True)
class FreeItem(Intent):
    sku: str
    name: str
    quantity: int | None = None


@dataclass(slots=True)
class UpdateAttribute(Intent):
    path: str
    value: Any


@dataclass(slots=True)
class RuleError(Intent):
    message: str


@dataclass(slots=True)
class Noop(Intent):
    pass


NOOP = Noop()
