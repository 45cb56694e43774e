"""Effect functions: named after the Talon ``effectType`` each one leads to.

=====================================================  ====================================
call                                                   effect
=====================================================  ====================================
``setDiscount name value [scope]``                     ``setDiscount`` (scope: sessionTotal,
                                                       cartItems, additionalCosts)
``setDiscountPerItem name value position|item [scope]``  ``setDiscountPerItem`` (scope:
                                                       price, itemTotal, additionalCosts)
``addLoyaltyPoints program value [name [subledger]]``  ``addLoyaltyPoints``
``deductLoyaltyPoints program value [name [subledger]]``  ``deductLoyaltyPoints``
``createCoupon [recipient [expiry]]``                  ``couponCreated``
``createReferral [friend]``                            ``referralCreated``
``showNotification type title body``                   ``showNotification`` (Info, Offer,
                                                       Error, Misc)
``customEffect name payload [effectId]``               ``customEffect`` (payload: ``kv``)
``addFreeItem sku name [quantity]``                    ``addFreeItem``
``updateAttribute path value``                         ``updateAttribute`` (path:
                                                       ``Profile.Attributes.x`` or
                                                       ``Session.Attributes.x``)
``error message``                                      ``error``
``noop``                                               nothing
=====================================================  ====================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from patron.domain.promotions.talang import intents
from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.nodes import Literal, Node
from patron.domain.promotions.talang.registry import Function, Overload, Site, folded
from patron.domain.promotions.talang.values import (
    EFFECT,
    VALUE,
    Kind,
    as_decimal,
    as_string,
    as_time,
    show,
    to_text,
)

TEXT = Kind.STRING
NUMBER = Kind.DECIMAL
DISCOUNT_SCOPES = ("sessionTotal", "cartItems", "additionalCosts")
ITEM_SCOPES = ("price", "itemTotal", "additionalCosts")
NOTIFICATIONS = ("Info", "Offer", "Error", "Misc")
ATTRIBUTE_PATH = re.compile(r"^(Profile|Session)\.Attributes\.[A-Za-z_][A-Za-z0-9_]*$")
# Discounts and points above this are mistakes (and would not round to cents in 28 digits).
MAX_AMOUNT = Decimal(10) ** 15


def one_of(allowed: Sequence[str]) -> Callable[[Node], str | None]:
    def check(node: Node) -> str | None:
        if isinstance(node, Literal) and node.value not in allowed:
            return f"{node.value!r} is not one of {', '.join(allowed)}"
        return None

    return check


def _attribute_path(node: Node) -> str | None:
    if not isinstance(node, Literal) or not isinstance(node.value, str):
        return "the path must be a literal string"
    if not ATTRIBUTE_PATH.match(node.value):
        return "the path is Profile.Attributes.<name> or Session.Attributes.<name>"
    return None


def _checked(value: Any, allowed: Sequence[str], what: str) -> str:
    text = as_string(value)
    if text not in allowed:
        raise EvaluationError(f"{text!r} is not a {what} ({', '.join(allowed)})")
    return text


def _whole(value: Any, what: str) -> int:
    number = as_decimal(value)
    if number != number.to_integral_value() or number < 0:
        raise EvaluationError(f"{what} must be a whole number ≥ 0, not {show(number)}")
    return int(number)


def _amount(value: Any, what: str) -> Decimal:
    amount = as_decimal(value)
    if amount < 0:
        raise EvaluationError(f"{what} cannot be negative ({show(amount)})")
    if amount > MAX_AMOUNT:
        raise EvaluationError(f"{what} of {show(amount)} is beyond any cart")
    return amount


def _discount(name: Any, value: Any, scope: Any = "sessionTotal") -> intents.Discount:
    return intents.Discount(
        as_string(name), _amount(value, "a discount"), _checked(scope, DISCOUNT_SCOPES, "scope")
    )


def _item_discount(
    name: Any, value: Any, position: Any, scope: Any = "price"
) -> intents.ItemDiscount:
    if not isinstance(position, Decimal | int) and hasattr(position, "position"):
        position = position.position  # a cart item: its own position
    return intents.ItemDiscount(
        as_string(name),
        _amount(value, "a discount"),
        _whole(position, "a position"),
        _checked(scope, ITEM_SCOPES, "scope"),
    )


def _program(value: Any) -> str:
    return to_text(value) if isinstance(value, Decimal) else as_string(value)


def _points(kind: type[intents.AddPoints] | type[intents.DeductPoints]) -> Callable[..., Any]:
    def build(program: Any, value: Any, name: Any = "", subledger: Any = "") -> Any:
        return kind(
            _program(program), _amount(value, "points"), as_string(name), as_string(subledger)
        )

    return build


def _create_coupon(recipient: Any = None, expiry: Any = None) -> intents.CreateCoupon:
    return intents.CreateCoupon(
        None if recipient is None else as_string(recipient),
        None if expiry is None else as_time(expiry),
    )


def _custom(name: Any, payload: Any, effect_id: Any = 0) -> intents.Custom:
    if not isinstance(payload, Mapping):
        raise EvaluationError(f"a custom effect's payload is a record, not {show(payload)}")
    return intents.Custom(as_string(name), dict(payload), _whole(effect_id, "an effect id"))


def _free_item(sku: Any, name: Any, quantity: Any = None) -> intents.FreeItem:
    count = None if quantity is None else _whole(quantity, "a quantity")
    return intents.FreeItem(as_string(sku), as_string(name), count)


def _effect(
    name: str,
    arities: Sequence[tuple[Kind, ...]],
    impl: Callable[..., Any],
    summary: str,
    checks: tuple[tuple[int, Callable[[Node], str | None]], ...] = (),
) -> Function:
    return Function(
        name,
        tuple(Overload(params, EFFECT) for params in arities),
        lambda site: _build(impl, site),
        summary,
        effect=True,
        literal_checks=checks,
    )


def _build(impl: Callable[..., Any], site: Site) -> Any:
    return folded(impl, site)


FUNCTIONS: list[Function] = [
    _effect(
        "setDiscount",
        [(TEXT, NUMBER), (TEXT, NUMBER, TEXT)],
        _discount,
        "a discount off the session total (or its cart items or additional costs)",
        ((2, one_of(DISCOUNT_SCOPES)),),
    ),
    _effect(
        "setDiscountPerItem",
        [(TEXT, NUMBER, NUMBER | Kind.MAP), (TEXT, NUMBER, NUMBER | Kind.MAP, TEXT)],
        _item_discount,
        "a discount off one cart item (by position, or the item itself)",
        ((3, one_of(ITEM_SCOPES)),),
    ),
    _effect(
        "addLoyaltyPoints",
        [
            (NUMBER | TEXT, NUMBER),
            (NUMBER | TEXT, NUMBER, TEXT),
            (NUMBER | TEXT, NUMBER, TEXT, TEXT),
        ],
        _points(intents.AddPoints),
        "points for the customer in a loyalty program",
    ),
    _effect(
        "deductLoyaltyPoints",
        [
            (NUMBER | TEXT, NUMBER),
            (NUMBER | TEXT, NUMBER, TEXT),
            (NUMBER | TEXT, NUMBER, TEXT, TEXT),
        ],
        _points(intents.DeductPoints),
        "points spent from the customer's balance",
    ),
    _effect(
        "createCoupon",
        [(), (TEXT,), (TEXT, Kind.TIME)],
        _create_coupon,
        "a new coupon of this campaign for the customer (or the recipient given)",
    ),
    _effect(
        "createReferral",
        [(), (TEXT,)],
        lambda friend="": intents.CreateReferral(as_string(friend)),
        "a new referral code with the customer as advocate",
    ),
    _effect(
        "showNotification",
        [(TEXT, TEXT, TEXT)],
        lambda kind, title, body: intents.Notification(
            _checked(kind, NOTIFICATIONS, "notification type"), as_string(title), as_string(body)
        ),
        "a message for the shop to show",
        ((0, one_of(NOTIFICATIONS)),),
    ),
    _effect(
        "customEffect",
        [(TEXT, Kind.MAP), (TEXT, Kind.MAP, NUMBER)],
        _custom,
        "a named payload the shop interprets",
    ),
    _effect(
        "addFreeItem", [(TEXT, TEXT), (TEXT, TEXT, NUMBER)], _free_item, "a free item for the cart"
    ),
    _effect(
        "updateAttribute",
        [(TEXT, VALUE)],
        lambda path, value: intents.UpdateAttribute(as_string(path), value),
        "a new value for a profile or session attribute",
        ((0, _attribute_path),),
    ),
    _effect(
        "error",
        [(TEXT,)],
        lambda message: intents.RuleError(as_string(message)),
        "an error effect with this message",
    ),
]
