"""Effects as Talon returns them (SPEC §4.3): a typed ``props`` per ``effectType``.

Every props class knows its Talon ``effect_type`` and spells its fields the
Talon way (:meth:`EffectProps.props`: ``programId``, ``transactionUUID``…),
leaving out optional fields that are not set. Money and points stay
``Decimal``; the surface writes them as JSON numbers.

Effects are values that nothing changes once built, but their dataclasses are
not ``frozen``: a session builds hundreds, and a frozen dataclass's
``__init__`` (every field through ``object.__setattr__``) costs four times a
plain one's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

_SPELLING = {"transaction_uuid": "transactionUUID"}


def _camel(name: str) -> str:
    if name in _SPELLING:
        return _SPELLING[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_SPELLED: dict[type, tuple[tuple[str, str], ...]] = {}


def _spelled(kind: type) -> tuple[tuple[str, str], ...]:
    """Each field of a props class and its Talon spelling (a session answers hundreds)."""
    found = _SPELLED.get(kind)
    if found is None:
        found = _SPELLED[kind] = tuple((f.name, _camel(f.name)) for f in fields(kind))
    return found


class EffectProps:
    __slots__ = ()
    effect_type: ClassVar[str]

    def props(self) -> dict[str, Any]:
        """The props object, in Talon's spelling, without unset optional fields."""
        found: dict[str, Any] = {}
        for name, spelled in _spelled(type(self)):
            value = getattr(self, name)
            if value is not None:
                found[spelled] = value
        return found


@dataclass(slots=True)
class SetDiscount(EffectProps):
    effect_type = "setDiscount"
    name: str
    value: Decimal
    scope: str | None = None
    desired_value: Decimal | None = None  # set when the discount was cut to what was left


@dataclass(slots=True)
class SetDiscountPerItem(EffectProps):
    effect_type = "setDiscountPerItem"
    name: str  # "<name>#<position>"
    value: Decimal
    position: int
    scope: str | None = None
    desired_value: Decimal | None = None


@dataclass(slots=True)
class AcceptCoupon(EffectProps):
    effect_type = "acceptCoupon"
    value: str


@dataclass(slots=True)
class RejectCoupon(EffectProps):
    effect_type = "rejectCoupon"
    value: str
    rejection_reason: str
    condition_index: int | None = None
    effect_index: int | None = None
    details: str | None = None


@dataclass(slots=True)
class AcceptReferral(EffectProps):
    effect_type = "acceptReferral"
    value: str


@dataclass(slots=True)
class RejectReferral(EffectProps):
    effect_type = "rejectReferral"
    value: str
    rejection_reason: str
    condition_index: int | None = None
    effect_index: int | None = None
    details: str | None = None


@dataclass(slots=True)
class CouponCreated(EffectProps):
    effect_type = "couponCreated"
    value: str
    profile_id: str


@dataclass(slots=True)
class ReferralCreated(EffectProps):
    effect_type = "referralCreated"
    value: str


@dataclass(slots=True)
class AddLoyaltyPoints(EffectProps):
    effect_type = "addLoyaltyPoints"
    name: str
    program_id: int
    sub_ledger_id: str  # "": the main ledger
    value: Decimal
    recipient_integration_id: str
    transaction_uuid: str
    start_date: datetime | None = None  # pending until then
    expiry_date: datetime | None = None
    desired_value: Decimal | None = None


@dataclass(slots=True)
class DeductLoyaltyPoints(EffectProps):
    effect_type = "deductLoyaltyPoints"
    rule_title: str
    program_id: int
    sub_ledger_id: str
    value: Decimal
    transaction_uuid: str
    name: str


@dataclass(slots=True)
class ShowNotification(EffectProps):
    effect_type = "showNotification"
    notification_type: str
    title: str
    body: str


@dataclass(slots=True)
class CustomEffect(EffectProps):
    effect_type = "customEffect"
    effect_id: int
    name: str
    payload: dict[str, Any]


@dataclass(slots=True)
class AddFreeItem(EffectProps):
    effect_type = "addFreeItem"
    sku: str
    name: str
    desired_quantity: int | None = None


@dataclass(slots=True)
class UpdateAttribute(EffectProps):
    effect_type = "updateAttribute"
    path: str
    value: Any


@dataclass(slots=True)
class Error(EffectProps):
    effect_type = "error"
    message: str


# -- rollbacks: emitted when a closed session is cancelled (a later step) ---------------------


@dataclass(slots=True)
class RollbackCoupon(EffectProps):
    effect_type = "rollbackCoupon"
    value: str


@dataclass(slots=True)
class RollbackReferral(EffectProps):
    effect_type = "rollbackReferral"
    value: str


@dataclass(slots=True)
class RollbackDiscount(EffectProps):
    effect_type = "rollbackDiscount"
    name: str
    value: Decimal
    cart_item_position: int | None = None
    scope: str | None = None


@dataclass(slots=True)
class RollbackAddedLoyaltyPoints(EffectProps):
    effect_type = "rollbackAddedLoyaltyPoints"
    program_id: int
    sub_ledger_id: str
    value: Decimal
    recipient_integration_id: str
    transaction_uuid: str


@dataclass(slots=True)
class RollbackDeductedLoyaltyPoints(EffectProps):
    effect_type = "rollbackDeductedLoyaltyPoints"
    program_id: int
    sub_ledger_id: str
    value: Decimal
    recipient_integration_id: str
    transaction_uuid: str


NO_CAMPAIGN = -1  # campaignId/rulesetId/ruleIndex of effects tied to no campaign


@dataclass(slots=True)
class Effect:
    """One effect with where it came from (Talon's ``Effect`` envelope)."""

    props: EffectProps
    campaign_id: int = NO_CAMPAIGN
    ruleset_id: int = NO_CAMPAIGN
    rule_index: int = NO_CAMPAIGN
    rule_name: str = ""
    triggered_by_coupon: int | None = None  # the coupon's id, for a coupon's rule
    condition_index: int | None = None

    @property
    def effect_type(self) -> str:
        return self.props.effect_type


@dataclass(slots=True)
class RuleFailureReason:
    """Why a rule did not fire (Talon's ``RuleFailureReason``; Patron fills ``details``)."""

    campaign_id: int
    campaign_name: str
    ruleset_id: int
    rule_index: int
    rule_name: str
    details: str
    condition_index: int | None = None  # the failing part of the condition's top ``and``
    effect_index: int | None = None  # the effect that could not be applied
    coupon_id: int | None = None
    coupon_value: str | None = None
    referral_id: int | None = None
    referral_value: str | None = None
