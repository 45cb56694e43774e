"""What ``.`` can read: the roots a rule sees and the fields of each, as tables.

``[".", "Session", "Total"]``, ``[".", "Profile", "Attributes", "tier"]``
(or ``"Attributes.tier"`` as one part), ``[".", "Item", "Price"]`` inside a
list function's block. A field the table does not know is refused when the
ruleset compiles; an attribute (a free key) can only be missing at run time,
which fails the expression (``catch`` gives a default).
"""

from __future__ import annotations

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
    list_of,
    map_of,
    normalize,
    number,
    record,
)

ITEM_FIELDS: Mapping[str, Field] = {
    "Name": Field(STRING, lambda item: item.name),
    "Sku": Field(STRING, lambda item: item.sku),
    "Quantity": Field(DECIMAL, lambda item: number(item.quantity)),
    "Price": Field(DECIMAL, lambda item: item.price),
    "Category": Field(STRING, lambda item: item.category),
    "Attributes": Field(FREE_MAP, lambda item: item.attributes),
    "Position": Field(DECIMAL, lambda item: number(item.position)),
    "AdditionalCosts": Field(DECIMAL, lambda item: item.additional_costs),
}
ITEM = record(ITEM_FIELDS)

SESSION = record(
    {
        "IntegrationId": Field(STRING, lambda s: s.integration_id),
        "Total": Field(DECIMAL, lambda s: s.total),
        "CartItemTotal": Field(DECIMAL, lambda s: s.cart_item_total),
        "AdditionalCostTotal": Field(DECIMAL, lambda s: s.additional_cost_total),
        "CartItems": Field(list_of(ITEM), lambda s: s.cart_items),
        "Attributes": Field(FREE_MAP, lambda s: s.attributes),
        "State": Field(STRING, lambda s: s.state),
        "CouponCodes": Field(list_of(STRING), lambda s: s.coupon_codes),
        "ReferralCode": Field(STRING, lambda s: s.referral_code),
    }
)

PROFILE = record(
    {
        "IntegrationId": Field(STRING, lambda p: p.integration_id),
        "Attributes": Field(FREE_MAP, lambda p: p.attributes),
        "Audiences": Field(list_of(UNKNOWN), lambda p: normalize(p.audiences)),
        "ClosedSessions": Field(DECIMAL, lambda p: number(p.closed_sessions)),
        "TotalSales": Field(DECIMAL, lambda p: p.total_sales),
        "Segments": Field(list_of(STRING), lambda p: tuple(p.segments)),
        "Anonymous": Field(BOOLEAN, lambda p: p.anonymous),
    }
)

EVENT = record(
    {
        "Type": Field(STRING, lambda e: e.type),
        "Attributes": Field(FREE_MAP, lambda e: e.attributes),
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
        "Code": Field(STRING, lambda c: c.code),
        "Attributes": Field(FREE_MAP, lambda c: c.attributes),
        "UsageLimit": Field(DECIMAL, lambda c: number(c.usage_limit)),
        "UsageCounter": Field(DECIMAL, lambda c: number(c.usage_counter)),
        "DiscountLimit": Field(DECIMAL, lambda c: c.discount_limit),
        "DiscountCounter": Field(DECIMAL, lambda c: c.discount_counter),
        "RecipientIntegrationId": Field(STRING, lambda c: c.recipient_integration_id),
        "StartDate": Field(TIME, _optional_time(lambda c: c.start_date, "coupon's start date")),
        "ExpiryDate": Field(TIME, _optional_time(lambda c: c.expiry_date, "coupon's expiry date")),
    }
)

REFERRAL = record(
    {
        "Id": Field(DECIMAL, lambda r: number(r.id)),
        "Code": Field(STRING, lambda r: r.code),
        "Attributes": Field(FREE_MAP, lambda r: r.attributes),
        "AdvocateIntegrationId": Field(STRING, lambda r: r.advocate_integration_id),
        "FriendIntegrationId": Field(STRING, lambda r: r.friend_integration_id),
        "UsageLimit": Field(DECIMAL, lambda r: number(r.usage_limit)),
        "UsageCounter": Field(DECIMAL, lambda r: number(r.usage_counter)),
    }
)

_BALANCE_FIELDS: dict[str, Field] = {
    "CurrentBalance": Field(DECIMAL, lambda b: b.current),
    "PendingBalance": Field(DECIMAL, lambda b: b.pending),
    "ExpiredBalance": Field(DECIMAL, lambda b: b.expired),
    "SpentBalance": Field(DECIMAL, lambda b: b.spent),
    "TentativeCurrentBalance": Field(DECIMAL, lambda b: b.tentative),
}
BALANCE = record(_BALANCE_FIELDS)


def _of_main_ledger(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda program: read(program.balance)


# A program's balance fields read its main ledger; "Subledgers.<id>" the others.
_PROGRAM_FIELDS: dict[str, Field] = {
    **{name: Field(f.shape, _of_main_ledger(f.read)) for name, f in _BALANCE_FIELDS.items()},
    "Name": Field(STRING, lambda p: p.name),
    "Subledgers": Field(map_of(BALANCE), lambda p: p.subledgers),
}
PROGRAM = record(_PROGRAM_FIELDS)

APPLICATION = record(
    {
        "Id": Field(DECIMAL, lambda a: number(a.id)),
        "Name": Field(STRING, lambda a: a.name),
        "Currency": Field(STRING, lambda a: a.currency),
        "Timezone": Field(STRING, lambda a: a.timezone),
        "Attributes": Field(FREE_MAP, lambda a: a.attributes),
    }
)

CAMPAIGN = record(
    {
        "Id": Field(DECIMAL, lambda c: number(c.id)),
        "Name": Field(STRING, lambda c: c.name),
        "Attributes": Field(FREE_MAP, lambda c: c.attributes),
        "Tags": Field(list_of(STRING), lambda c: c.tags),
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

ROOTS: Mapping[str, tuple[Shape, Reader]] = {
    "Session": (SESSION, lambda scope: scope.context.session),
    "Profile": (PROFILE, lambda scope: scope.context.profile),
    "Event": (EVENT, _event),
    "Coupon": (COUPON, _coupon),
    "Referral": (REFERRAL, _referral),
    "Loyalty": (map_of(PROGRAM), lambda scope: scope.context.loyalty),
    "Application": (APPLICATION, lambda scope: scope.context.application),
    "Campaign": (CAMPAIGN, lambda scope: scope.campaign),
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


def compile_fields(
    shape: Shape, parts: list[tuple[int, str]]
) -> tuple[list[Callable[[Any], Any]], Shape]:
    """The readers of the fields after the root, and the shape they end with."""
    readers: list[Callable[[Any], Any]] = []
    for index, name in parts:
        if shape.fields is not None:
            field = shape.fields.get(name)
            if field is None:
                known = ", ".join(sorted(shape.fields))
                raise PathRefused(f"no field {name!r} here (known: {known})", index)
            readers.append(field.read)
            shape = field.shape
        elif not shape.kind & Kind.MAP:
            raise PathRefused(f"cannot read {name!r} of a value that has no fields", index)
        else:
            readers.append(_key(name))
            shape = shape.item()
    return readers, shape


def _key(name: str) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        if isinstance(value, Mapping):
            return normalize(value[name])  # KeyError: not set
        fields = _FIELDS_BY_TYPE.get(type(value))
        if fields is None or name not in fields:
            raise LookupError(name)
        return fields[name].read(value)

    return read


def path_runner(root: Reader, readers: list[Callable[[Any], Any]], text: str) -> Reader:
    if not readers:
        return root
    if len(readers) == 1:
        (only,) = readers

        def run_one(scope: Scope) -> Any:
            try:
                return only(root(scope))
            except (LookupError, AttributeError):
                raise EvaluationError(f"{text} is not set") from None

        return run_one

    def run(scope: Scope) -> Any:
        value = root(scope)
        try:
            for read in readers:
                value = read(value)
        except (LookupError, AttributeError):
            raise EvaluationError(f"{text} is not set") from None
        return value

    return run
