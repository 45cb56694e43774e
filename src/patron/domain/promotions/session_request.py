"""A session update as the Integration API sends it: validated, merged, and its transition.

The request's ``customerSession`` is checked once, every problem named with
the field it is in (``customerSession.cartItems.0.quantity``); what passes
is kept as plain JSON-able data (numbers as sent) so that a stored session
is exactly the fields its updates sent, merged (SPEC §4.2-4):

* a field present replaces the stored one (``couponCodes: []`` clears the
  coupons, ``referralCode: ""`` the referral, ``cartItems`` the cart);
* a field absent keeps the stored one;
* session ``attributes`` merge key by key (cart items' attributes replace).

The state machine (SPEC §4.2-5) gives each accepted update its built-in
event type; anything else is refused (400).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import orjson

from patron.domain.errors import Invalid, Problem
from patron.domain.promotions.model import CartItem, Session

MAX_CART_ITEMS = 1000
MAX_TOTAL_QUANTITY = 10_000
MAX_CODES = 100
# A unit price or cost: 10,000 units of the dearest still add up to a storable total.
MAX_PRICE = Decimal(100_000_000)
MAX_ID = 1000
MAX_CODE = 200
MAX_REFERRAL = 100  # what the SDKs accept back
SESSION = "customerSession"


class SessionState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PARTIALLY_RETURNED = "partially_returned"
    CANCELLED = "cancelled"


class SessionEvent(StrEnum):
    """The built-in event each kind of update records on the customer."""

    CREATED = "talon_session_created"
    UPDATED = "talon_session_updated"
    CLOSED = "talon_session_closed"
    CANCELLED = "talon_session_cancelled"  # open -> cancelled: nothing was committed
    REVOKED = "talon_session_revoked"  # closed -> cancelled: what closing did is rolled back


# Fields of NewCustomerSessionV2 that a session keeps (evaluableCampaignIds is per request).
KEPT = (
    "profileId",
    "storeIntegrationId",
    "couponCodes",
    "referralCode",
    "loyaltyCards",
    "state",
    "cartItems",
    "additionalCosts",
    "identifiers",
    "attributes",
)


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """One update's ``customerSession``: the fields it sent, checked."""

    fields: Mapping[str, Any]  # only those present, in KEPT
    evaluable_campaign_ids: tuple[int, ...] | None = None
    digest: str = ""  # of the whole request: an identical retry has the same

    @property
    def profile_id(self) -> str | None:
        value = self.fields.get("profileId")
        return value if isinstance(value, str) else None


def request_digest(document: Any) -> str:
    """A digest of a JSON document that does not depend on its keys' order."""
    encoded = orjson.dumps(document, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(encoded).hexdigest()


def parse_session_request(body: Mapping[str, Any], *, prefix: str = SESSION) -> SessionRequest:
    """``body[prefix]`` checked (Invalid lists every problem, with its field).

    ``prefix`` "": the body itself is the session (v1's ``NewCustomerSession``).
    """
    document = body.get(prefix) if prefix else body
    if not isinstance(document, Mapping):
        raise Invalid.of([Problem("is required and must be an object", prefix)])
    at = f"{prefix}." if prefix else ""
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    for name in KEPT:
        if name in document and document[name] is not None:
            value = _CHECKS[name](document[name], f"{at}{name}", problems)
            if value is not None:
                fields[name] = value
    campaign_ids = document.get("evaluableCampaignIds")
    evaluable = None
    if campaign_ids is not None:
        evaluable = _campaign_ids(campaign_ids, f"{at}evaluableCampaignIds", problems)
    if problems:
        raise Invalid.of(problems)
    return SessionRequest(fields, evaluable, request_digest(body))


# -- the checks of each field ----------------------------------------------------------------


def _text(value: Any, field: str, problems: list[Problem], limit: int = MAX_ID) -> str | None:
    if not isinstance(value, str):
        problems.append(Problem("must be a string", field))
        return None
    if len(value) > limit:
        problems.append(Problem(f"must be at most {limit} characters", field))
        return None
    return value


def _texts(value: Any, field: str, problems: list[Problem]) -> list[str] | None:
    if not isinstance(value, list):
        problems.append(Problem("must be a list of strings", field))
        return None
    if len(value) > MAX_CODES:
        problems.append(Problem(f"at most {MAX_CODES} entries", field))
        return None
    found = [_text(item, f"{field}.{i}", problems, MAX_CODE) for i, item in enumerate(value)]
    return [item for item in found if item is not None]


def _state(value: Any, field: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str) or value not in set(SessionState):  # ({} is unhashable)
        problems.append(Problem("one of open, closed, partially_returned, cancelled", field))
        return None
    return str(value)


def _object(value: Any, field: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        problems.append(Problem("must be an object", field))
        return None
    return dict(value)


def _amount(value: Any, field: str, problems: list[Problem]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem("must be a number", field))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not 0 <= amount < MAX_PRICE:
        problems.append(Problem(f"must be a number from 0 to below {MAX_PRICE:,}", field))
        return None
    return amount


def _costs(value: Any, field: str, problems: list[Problem]) -> dict[str, Any] | None:
    costs = _object(value, field, problems)
    if costs is None:
        return None
    for name, cost in costs.items():
        if not isinstance(cost, Mapping) or "price" not in cost:
            problems.append(Problem("must be an object with a price", f"{field}.{name}"))
        else:
            _amount(cost["price"], f"{field}.{name}.price", problems)
    return costs


def _cart(value: Any, field: str, problems: list[Problem]) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        problems.append(Problem("must be a list of cart items", field))
        return None
    if len(value) > MAX_CART_ITEMS:
        problems.append(Problem(f"at most {MAX_CART_ITEMS} cart items", field))
        return None
    items: list[dict[str, Any]] = []
    total = 0
    for index, item in enumerate(value):
        checked = _cart_item(item, f"{field}.{index}", problems)
        if checked is not None:
            items.append(checked)
            total += checked["quantity"]
    if total > MAX_TOTAL_QUANTITY:
        problems.append(Problem(f"the quantities add up to more than {MAX_TOTAL_QUANTITY}", field))
    return items


def _cart_item(item: Any, field: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, Mapping):
        problems.append(Problem("must be a cart item object", field))
        return None
    before = len(problems)
    sku = item.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        problems.append(Problem("is required: a non-empty string", f"{field}.sku"))
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        problems.append(Problem("is required: a whole number of at least 1", f"{field}.quantity"))
    elif quantity < 1:
        problems.append(Problem("must be at least 1", f"{field}.quantity"))
    if item.get("price") is not None:
        _amount(item["price"], f"{field}.price", problems)
    for name in ("name", "category"):
        if item.get(name) is not None:
            _text(item[name], f"{field}.{name}", problems)
    if item.get("attributes") is not None:
        _object(item["attributes"], f"{field}.attributes", problems)
    if item.get("additionalCosts") is not None:
        _costs(item["additionalCosts"], f"{field}.additionalCosts", problems)
    return dict(item) if len(problems) == before else None


def _campaign_ids(value: Any, field: str, problems: list[Problem]) -> tuple[int, ...] | None:
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value
    ):
        problems.append(Problem("must be a list of campaign ids", field))
        return None
    return tuple(value)


_CHECKS: dict[str, Any] = {
    "profileId": _text,
    "storeIntegrationId": _text,
    "couponCodes": _texts,
    "referralCode": lambda v, f, p: _text(v, f, p, MAX_REFERRAL),
    "loyaltyCards": _texts,
    "state": _state,
    "cartItems": _cart,
    "additionalCosts": _costs,
    "identifiers": _texts,
    "attributes": _object,
}


# -- merging and the state machine -----------------------------------------------------------


def merge(stored: Mapping[str, Any], request: SessionRequest) -> dict[str, Any]:
    """The session's fields after this update (see the module's rules)."""
    merged = dict(stored)
    for name, value in request.fields.items():
        if name == "attributes":
            merged["attributes"] = {**stored.get("attributes", {}), **value}
        else:
            merged[name] = value
    return merged


_TRANSITIONS: dict[tuple[str | None, str], SessionEvent] = {
    (None, SessionState.OPEN): SessionEvent.CREATED,
    (None, SessionState.CLOSED): SessionEvent.CLOSED,
    (SessionState.OPEN, SessionState.OPEN): SessionEvent.UPDATED,
    (SessionState.OPEN, SessionState.CLOSED): SessionEvent.CLOSED,
    (SessionState.OPEN, SessionState.CANCELLED): SessionEvent.CANCELLED,
    (SessionState.CLOSED, SessionState.CANCELLED): SessionEvent.REVOKED,
    (SessionState.PARTIALLY_RETURNED, SessionState.CANCELLED): SessionEvent.REVOKED,
}


def transition(current: str | None, wanted: str) -> SessionEvent:
    """The built-in event of moving from ``current`` (None: a new session) to ``wanted``."""
    found = _TRANSITIONS.get((current, wanted))
    if found is not None:
        return found
    field = f"{SESSION}.state"
    if current is None:
        message = f"a new session is open or closed, not {wanted}"
    elif current == SessionState.CANCELLED:
        message = "the session is cancelled: it cannot be changed any more"
    elif current == wanted:
        message = f"the session is {current}: it cannot be modified any more"
    else:
        message = f"a {current} session cannot become {wanted} through this endpoint"
    raise Invalid.of([Problem(message, field)])


# -- the engine's view -----------------------------------------------------------------------


def engine_session(integration_id: str, fields: Mapping[str, Any]) -> Session:
    """The stored (or dry) fields as the engine's Session (totals before discounts)."""
    items = tuple(
        _engine_item(index, item) for index, item in enumerate(fields.get("cartItems", ()))
    )
    return Session(
        integration_id,
        cart_items=items,
        additional_costs=_costs_total(fields.get("additionalCosts")),
        attributes=dict(fields.get("attributes", {})),
        state=str(fields.get("state", SessionState.OPEN)),
        coupon_codes=tuple(fields.get("couponCodes", ())),
        referral_code=str(fields.get("referralCode", "")),
    )


def _engine_item(index: int, item: Mapping[str, Any]) -> CartItem:
    return CartItem(
        sku=str(item["sku"]),
        quantity=int(item["quantity"]),
        price=_decimal(item.get("price")),
        name=str(item.get("name") or ""),
        category=str(item.get("category") or ""),
        attributes=dict(item.get("attributes") or {}),
        position=index,
        additional_costs=_costs_total(item.get("additionalCosts")),
    )


def _costs_total(costs: Any) -> Decimal:
    if not isinstance(costs, Mapping):
        return Decimal(0)
    return sum((_decimal(cost.get("price")) for cost in costs.values()), Decimal(0))


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))
