"""Effect props are spelled as Talon's SDK models them, optional fields left out when unset."""

from __future__ import annotations

from patron.domain.promotions import effects as fx
from tests.domain.promotions.support import D


def test_rollback_effects_as_data() -> None:
    assert fx.RollbackCoupon("SPRING").props() == {"value": "SPRING"}
    assert fx.RollbackReferral("REF").props() == {"value": "REF"}
    assert fx.RollbackDiscount("10% off", D("8.00")).props() == {
        "name": "10% off",
        "value": D("8.00"),
    }
    assert fx.RollbackDiscount("x#1", D(1), cart_item_position=1, scope="price").props() == {
        "name": "x#1",
        "value": D(1),
        "cartItemPosition": 1,
        "scope": "price",
    }
    added = fx.RollbackAddedLoyaltyPoints(7, "", D(10), "cust-1", "uuid-1")
    assert added.props() == {
        "programId": 7,
        "subLedgerId": "",
        "value": D(10),
        "recipientIntegrationId": "cust-1",
        "transactionUUID": "uuid-1",
    }
    assert fx.RollbackDeductedLoyaltyPoints(7, "s", D(3), "cust-1", "u").effect_type == (
        "rollbackDeductedLoyaltyPoints"
    )


def test_every_effect_type_is_named_after_talon() -> None:
    kinds = {cls.effect_type for cls in fx.EffectProps.__subclasses__()}
    assert kinds == {
        "setDiscount",
        "setDiscountPerItem",
        "acceptCoupon",
        "rejectCoupon",
        "acceptReferral",
        "rejectReferral",
        "couponCreated",
        "referralCreated",
        "addLoyaltyPoints",
        "deductLoyaltyPoints",
        "showNotification",
        "customEffect",
        "addFreeItem",
        "updateAttribute",
        "error",
        "rollbackCoupon",
        "rollbackReferral",
        "rollbackDiscount",
        "rollbackAddedLoyaltyPoints",
        "rollbackDeductedLoyaltyPoints",
    }


def test_reject_props_leave_out_what_is_unset() -> None:
    props = fx.RejectCoupon("X", "CouponNotFound", details="no coupon has this code").props()
    assert props == {
        "value": "X",
        "rejectionReason": "CouponNotFound",
        "details": "no coupon has this code",
    }
    effect = fx.Effect(fx.AcceptCoupon("X"))
    assert (effect.campaign_id, effect.ruleset_id, effect.rule_index) == (-1, -1, -1)
    assert effect.effect_type == "acceptCoupon"
