"""What ``.`` can read: the roots a rule sees and the fields of each, as tables.

``[".", "Session", "Total"]``, ``[".", "Profile", "Attributes", "tier"]``
(or ``"Attributes.tier"`` as one part), ``[".", "Item", "Price"]`` inside a
list function's block. A field the table does not know is refused when the
ruleset compiles; an attribute (a free key) can only be missing at run time,
which fails the expression (``catch`` gives a default).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from patron.domain.promotions.model import (
    CartItem,
    Coupon,
    LoyaltyBalance,
    LoyaltyProgram,
    Referral,
)
from patron.domain.promotions.talang.errors import EvaluationError
from patron.domain.promotions.talang.nodes import Scope
from patron.domain.promotions.talang.values import (
    BOOLEAN,
    DECIMAL,
    FREE_MAP,
    STRING,
    TIME,
    UNKNOWN,
    Field,
    Kind,
    Shape,
    attribute,
    list_of,
    map_of,
    normalize,
    number,
    record,
)

ITEM_FIELDS: Mapping[str, Field] = {
    "Name": attribute(STRING, "name"),
    "Sku": attribute(STRING, "sku"),
    "Quantity": Field(DECIMAL, lambda item: number(item.quantity)),
    "Price": attribute(DECIMAL, "price"),
    "Category": attribute(STRING, "category"),
    "Attributes": attribute(FREE_MAP, "attributes"),
    "Position": Field(DECIMAL, lambda item: number(item.position)),
    "AdditionalCosts": attribute(DECIMAL, "additional_costs"),
}
ITEM = record(ITEM_FIELDS)

SESSION = record(
    {
        "IntegrationId": attribute(STRING, "integration_id"),
        "Total": attribute(DECIMAL, "total"),
        "CartItemTotal": attribute(DECIMAL, "cart_item_total"),
        "AdditionalCostTotal": attribute(DECIMAL, "additional_cost_total"),
        "CartItems": attribute(list_of(ITEM), "cart_items"),
        "Attributes": attribute(FREE_MAP, "attributes"),
        "State": attribute(STRING, "state"),
        "CouponCodes": attribute(list_of(STRING), "coupon_codes"),
        "ReferralCode": attribute(STRING, "referral_code"),
    }
)

PROFILE = record(
    {
        "IntegrationId": attribute(STRING, "integration_id"),
        "Attributes": attribute(FREE_MAP, "attributes"),
        "Audiences": Field(list_of(UNKNOWN), lambda p: normalize(p.audiences)),
        "ClosedSessions": Field(DECIMAL, lambda p: number(p.closed_sessions)),
        "TotalSales": attribute(DECIMAL, "total_sales"),
        "Segments": Field(list_of(STRING), lambda p: tuple(p.segments)),
        "Anonymous": attribute(BOOLEAN, "anonymous"),
    }
)

EVENT = record(
    {
        "Type": attribute(STRING, "type"),
        "Attributes": attribute(FREE_MAP, "attributes"),
    }
)


def _optional_time(read: Callable[[Any], Any], what: str) -> Callable[[Any], Any]:
    def get(entity: Any) -> Any:
        value = read(entity)
        if value is None:
            raise EvaluationError(f"the {what} is not set")
        return value

    return get


COUPON = record(
    {
        "Id": Field(DECIMAL, lambda c: number(c.id)),
        "Code": attribute(STRING, "code"),
        "Attributes": attribute(FREE_MAP, "attributes"),
        "UsageLimit": Field(DECIMAL, lambda c: number(c.usage_limit)),
        "UsageCounter": Field(DECIMAL, lambda c: number(c.usage_counter)),
        "DiscountLimit": attribute(DECIMAL, "discount_limit"),
        "DiscountCounter": attribute(DECIMAL, "discount_counter"),
        "RecipientIntegrationId": attribute(STRING, "recipient_integration_id"),
        "StartDate": Field(TIME, _optional_time(lambda c: c.start_date, "coupon's start date")),
        "ExpiryDate": Field(TIME, _optional_time(lambda c: c.expiry_date, "coupon's expiry date")),
    }
)

REFERRAL = record(
    {
        "Id": Field(DECIMAL, lambda r: number(r.id)),
        "Code": attribute(STRING, "code"),
        "Attributes": attribute(FREE_MAP, "attributes"),
        "AdvocateIntegrationId": attribute(STRING, "advocate_integration_id"),
        "FriendIntegrationId": attribute(STRING, "friend_integration_id"),
        "UsageLimit": Field(DECIMAL, lambda r: number(r.usage_limit)),
        "UsageCounter": Field(DECIMAL, lambda r: number(r.usage_counter)),
    }
)

_BALANCE_FIELDS: dict[str, Field] = {
    "CurrentBalance": attribute(DECIMAL, "current"),
    "PendingBalance": attribute(DECIMAL, "pending"),
    "ExpiredBalance": attribute(DECIMAL, "expired"),
    "SpentBalance": attribute(DECIMAL, "spent"),
    "TentativeCurrentBalance": attribute(DECIMAL, "tentative"),
}
BALANCE = record(_BALANCE_FIELDS)


def _of_main_ledger(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda program: read(program.balance)


# A program's balance fields read its main ledger; "Subledgers.<id>" the others.
_PROGRAM_FIELDS: dict[str, Field] = {
    **{name: Field(f.shape, _of_main_ledger(f.read)) for name, f in _BALANCE_FIELDS.items()},
    "Name": attribute(STRING, "name"),
    "Subledgers": attribute(map_of(BALANCE), "subledgers"),
}
PROGRAM = record(_PROGRAM_FIELDS)

APPLICATION = record(
    {
        "Id": Field(DECIMAL, lambda a: number(a.id)),
        "Name": attribute(STRING, "name"),
        "Currency": attribute(STRING, "currency"),
        "Timezone": attribute(STRING, "timezone"),
        "Attributes": attribute(FREE_MAP, "attributes"),
    }
)

CAMPAIGN = record(
    {
        "Id": Field(DECIMAL, lambda c: number(c.id)),
        "Name": attribute(STRING, "name"),
        "Attributes": attribute(FREE_MAP, "attributes"),
        "Tags": attribute(list_of(STRING), "tags"),
    }
)

# Records met where the compiler did not know their shape (an item of a list
# built at run time): read by type.
_FIELDS_BY_TYPE: dict[type, Mapping[str, Field]] = {
    CartItem: ITEM_FIELDS,
    Coupon: COUPON.fields or {},
    Referral: REFERRAL.fields or {},
    LoyaltyBalance: _BALANCE_FIELDS,
    LoyaltyProgram: _PROGRAM_FIELDS,
}


def _event(scope: Scope) -> Any:
    if scope.context.event is None:
        raise EvaluationError("this evaluation has no event")
    return scope.context.event


def _coupon(scope: Scope) -> Any:
    if scope.coupon is None:
        raise EvaluationError("no valid coupon of this campaign is in the session")
    return scope.coupon


def _referral(scope: Scope) -> Any:
    if scope.referral is None:
        raise EvaluationError("no valid referral of this campaign is in the session")
    return scope.referral


Reader = Callable[[Scope], Any]

# The roots that are always there, as the scope's attributes (a path of plain fields
# from one of them reads as one attrgetter).
ROOT_ATTRIBUTES: Mapping[str, str] = {
    "Session": "context.session",
    "Profile": "context.profile",
    "Loyalty": "context.loyalty",
    "Application": "context.application",
    "Campaign": "campaign",
}
ROOTS: Mapping[str, tuple[Shape, Reader]] = {
    "Session": (SESSION, operator.attrgetter(ROOT_ATTRIBUTES["Session"])),
    "Profile": (PROFILE, operator.attrgetter(ROOT_ATTRIBUTES["Profile"])),
    "Event": (EVENT, _event),
    "Coupon": (COUPON, _coupon),
    "Referral": (REFERRAL, _referral),
    "Loyalty": (map_of(PROGRAM), operator.attrgetter(ROOT_ATTRIBUTES["Loyalty"])),
    "Application": (APPLICATION, operator.attrgetter(ROOT_ATTRIBUTES["Application"])),
    "Campaign": (CAMPAIGN, operator.attrgetter(ROOT_ATTRIBUTES["Campaign"])),
}


class PathRefused(ValueError):
    """A part of a path names nothing: ``index`` is that part's index in the path."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def split_parts(raw: tuple[Any, ...]) -> list[tuple[int, str]]:
    """Each name of the path with the index of the JSON element it came from."""
    parts: list[tuple[int, str]] = []
    for index, part in enumerate(raw):
        if isinstance(part, bool) or not isinstance(part, str | int):
            raise PathRefused("a path part must be a name", index)
        names = str(part).split(".") if isinstance(part, str) else [str(part)]
        if any(not name for name in names):
            raise PathRefused(f"{part!r} has an empty name", index)
        parts.extend((index, name) for name in names)
    return parts


def compile_fields(shape: Shape, parts: list[tuple[int, str]]) -> tuple[list[Field], Shape]:
    """The fields read after the root, and the shape they end with."""
    fields: list[Field] = []
    for index, name in parts:
        if shape.fields is not None:
            field = shape.fields.get(name)
            if field is None:
                known = ", ".join(sorted(shape.fields))
                raise PathRefused(f"no field {name!r} here (known: {known})", index)
            fields.append(field)
            shape = field.shape
        elif not shape.kind & Kind.MAP:
            raise PathRefused(f"cannot read {name!r} of a value that has no fields", index)
        else:
            shape = shape.item()
            fields.append(Field(shape, _key(name)))
    return fields, shape


_UNSET = object()  # a key the mapping does not have (cheaper than raising KeyError)


def _key(name: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if isinstance(value, Mapping):
            found = value.get(name, _UNSET)
            return found if found is _UNSET else normalize(found)
        fields = _FIELDS_BY_TYPE.get(type(value))
        if fields is None or name not in fields:
            raise LookupError(name)
        return fields[name].read(value)

    return read


def path_runner(root: Reader, fields: list[Field], text: str, origin: str | int | None) -> Reader:
    """The path's reader. ``origin``: the root as the scope's attributes (``ROOT_ATTRIBUTES``)
    or as a block variable's frame slot, if it is one of those (faster paths)."""
    attributes = [field.attribute for field in fields if field.attribute]
    if fields and len(attributes) == len(fields) and origin is not None:
        # Plain attributes all the way: one attrgetter instead of a call per part.
        if isinstance(origin, str):  # from a root always there: nothing can be missing
            return operator.attrgetter(".".join([origin, *attributes]))
        slot, get = origin, operator.attrgetter(".".join(attributes))

        def run_slot(scope: Scope) -> Any:
            try:
                return get(scope.frame[slot])
            except (LookupError, AttributeError):  # an item of a list built at run time
                raise EvaluationError(f"{text} is not set") from None

        return run_slot
    readers = [field.read for field in fields]
    if not readers:
        return root
    if len(readers) == 1:
        (only,) = readers

        def run_one(scope: Scope) -> Any:
            try:
                value = only(root(scope))
            except (LookupError, AttributeError):
                raise EvaluationError(f"{text} is not set") from None
            if value is _UNSET:
                raise EvaluationError(f"{text} is not set")
            return value

        return run_one

    def run(scope: Scope) -> Any:
        value = root(scope)
        try:
            for read in readers:
                value = read(value)
                if value is _UNSET:
                    break
        except (LookupError, AttributeError):
            value = _UNSET
        if value is _UNSET:
            raise EvaluationError(f"{text} is not set")
        return value

    return run
