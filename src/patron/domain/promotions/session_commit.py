"""What closing a session commits, and how cancelling a closed one rolls exactly that back.

Closing (SPEC §4.2-11), campaign by campaign in the order of the effects:

1. the campaign's accepted coupon is redeemed (``redeem_coupon``: its own
   counters, atomically within its limits) and counted against the
   campaign's ``redeemCoupon`` limits; a limit another session reached
   meanwhile turns ``acceptCoupon`` into ``rejectCoupon`` with the reason
   (``CouponLimitReached``, ``ProfileLimitReached``, ``CampaignLimitReached``)
   and drops the effects that coupon triggered — the same for the referral;
2. the campaign's discounts and loyalty points are counted against its
   limits (created codes counted when they were stored, see
   :mod:`.rule_commit`) (conditional updates that never pass a limit); an
   action over its limit drops its effects;
3. loyalty points are written (``addLoyaltyPoints``) or spent
   (``deductLoyaltyPoints``, dropped when the points are no longer there).

Everything done is recorded in the session's ``committed`` document, so
that cancelling the closed session undoes exactly that and answers the
rollback effects (``rollbackCoupon``, ``rollbackReferral``,
``rollbackDiscount``, ``rollbackAddedLoyaltyPoints``,
``rollbackDeductedLoyaltyPoints``). Coupons the session created are kept,
as Talon keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from patron.domain.promotions.campaigns import Campaign, LimitAction
from patron.domain.promotions.evaluate import Accepted, Evaluation
from patron.domain.promotions.session_effects import DISCOUNTS, amount, derived
from patron.domain.promotions.session_ports import SessionUnit
from patron.domain.promotions.verdicts import CouponRejection, ReferralRejection

Doc = dict[str, Any]
ZERO = Decimal(0)
# (Created codes count when they are stored, on any write: see rule_commit.)
_COUNTED: dict[LimitAction, tuple[str, ...]] = {
    LimitAction.SET_DISCOUNT: DISCOUNTS,
    LimitAction.ADD_LOYALTY_POINTS: ("addLoyaltyPoints",),
}
_POINTS: dict[LimitAction, tuple[str, ...]] = {
    LimitAction.ADD_LOYALTY_POINTS: ("addLoyaltyPoints",)
}


@dataclass
class Closing:
    """One session being closed: its effects as they end up, and what was done."""

    unit: SessionUnit
    application_id: int
    session_id: str
    profile_id: str
    campaigns: Mapping[int, Campaign]
    now: datetime
    effects: list[Doc]
    committed: dict[str, list[Doc]] = field(default_factory=dict)

    def record(self, kind: str, entry: Doc) -> None:
        self.committed.setdefault(kind, []).append(entry)

    def take(self, campaign: Campaign, action: LimitAction, total: Decimal) -> bool:
        """Count ``total`` of ``action`` for the campaign and the customer, within limits."""
        if total <= 0:
            return True
        limits = campaign.limits_of(action)
        targets = [("", [lim.limit for lim in limits if not lim.per_profile and lim.limit > 0])]
        if self.profile_id:
            per_profile = [lim.limit for lim in limits if lim.per_profile and lim.limit > 0]
            targets.append((self.profile_id, per_profile))
        taken: list[str] = []
        for who, caps in targets:
            cap = min(caps) if caps else None
            if not self.unit.take_campaign_usage(campaign.id, action, who, total, cap):
                for done in taken:
                    self.unit.return_campaign_usage(campaign.id, action, done, total)
                return False
            taken.append(who)
        for who in taken:
            self.record(
                "usage",
                {
                    "campaignId": campaign.id,
                    "action": action.value,
                    "integrationId": who,
                    "amount": str(total),
                },
            )
        return True


def close(
    unit: SessionUnit,
    evaluation: Evaluation,
    documents: list[Doc],
    campaigns: Mapping[int, Campaign],
    *,
    application_id: int,
    session_id: str,
    profile_id: str,
    now: datetime,
) -> tuple[list[Doc], dict[str, list[Doc]]]:
    """Commit the closing of a session: its final effects, and what was committed."""
    closing = Closing(unit, application_id, session_id, profile_id, campaigns, now, documents)
    for campaign_id in _campaign_order(documents):
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            continue
        for accepted in evaluation.accepted_coupons:
            if accepted.campaign_id == campaign_id:
                _redeem_coupon(closing, campaign, accepted)
        referral = evaluation.accepted_referral
        if referral is not None and referral.campaign_id == campaign_id:
            _redeem_referral(closing, campaign, referral)
        _count(closing, campaign)
    _points(closing)
    return closing.effects, closing.committed


def commit_event_points(
    unit: SessionUnit,
    documents: list[Doc],
    campaigns: Mapping[int, Campaign],
    *,
    application_id: int,
    session_id: str,
    profile_id: str,
    now: datetime,
) -> list[Doc]:
    """Write an event's loyalty points now (counted against the campaigns' limits);
    return the documents that were not written (over a limit, points no longer there)."""
    closing = Closing(unit, application_id, session_id, profile_id, campaigns, now, documents)
    for campaign_id in _campaign_order(documents):
        campaign = campaigns.get(campaign_id)
        if campaign is not None:
            _count(closing, campaign, _POINTS)
    _points(closing)
    return [d for d in documents if not any(d is kept for kept in closing.effects)]


def _campaign_order(documents: list[Doc]) -> list[int]:
    return list(dict.fromkeys(d["campaignId"] for d in documents if d["campaignId"] >= 0))


def _redeem_coupon(closing: Closing, campaign: Campaign, accepted: Accepted) -> None:
    triggered = [d for d in closing.effects if d.get("triggeredByCoupon") == accepted.id]
    discount = sum((amount(d) for d in triggered if d["effectType"] in DISCOUNTS), ZERO)
    who = closing.profile_id
    reason = closing.unit.redeem_coupon(accepted.id, who, discount)
    if reason is None and not closing.take(campaign, LimitAction.REDEEM_COUPON, Decimal(1)):
        closing.unit.unredeem_coupon(accepted.id, who, discount)
        reason = CouponRejection.CAMPAIGN_LIMIT_REACHED.value
    if reason is not None:
        _reject(closing, "acceptCoupon", accepted, reason, accepted.id)
        return
    source = _find(closing.effects, "acceptCoupon", accepted.code)
    closing.record(
        "coupons",
        {"id": accepted.id, "code": accepted.code, "discount": str(discount), "effect": source},
    )


def _redeem_referral(closing: Closing, campaign: Campaign, accepted: Accepted) -> None:
    reason = closing.unit.redeem_referral(accepted.id, closing.profile_id)
    if reason is None and not closing.take(campaign, LimitAction.REDEEM_REFERRAL, Decimal(1)):
        closing.unit.unredeem_referral(accepted.id, closing.profile_id)
        reason = ReferralRejection.CAMPAIGN_LIMIT_REACHED.value
    if reason is not None:
        _reject(closing, "acceptReferral", accepted, reason, None)
        return
    source = _find(closing.effects, "acceptReferral", accepted.code)
    closing.record("referrals", {"id": accepted.id, "code": accepted.code, "effect": source})


def _reject(
    closing: Closing, accept_type: str, accepted: Accepted, reason: str, coupon_id: int | None
) -> None:
    """Replace the accept effect by a reject one; drop what the coupon triggered."""
    source = _find(closing.effects, accept_type, accepted.code)
    reject_type = "rejectCoupon" if accept_type == "acceptCoupon" else "rejectReferral"
    details = "a limit was reached by another session before this one closed"
    rejected = derived(
        source, reject_type, {"value": accepted.code, "rejectionReason": reason, "details": details}
    )
    kept = [
        d
        for d in closing.effects
        if d is not source and (coupon_id is None or d.get("triggeredByCoupon") != coupon_id)
    ]
    closing.effects = [*kept, rejected]


def _find(documents: list[Doc], effect_type: str, code: str) -> Doc:
    for document in documents:
        if document["effectType"] == effect_type and document["props"].get("value") == code:
            return document
    raise LookupError(f"no {effect_type} effect for {code!r}")


def _count(
    closing: Closing, campaign: Campaign, counted: dict[LimitAction, tuple[str, ...]] = _COUNTED
) -> None:
    for action, types in counted.items():
        mine = [
            d
            for d in closing.effects
            if d["campaignId"] == campaign.id and d["effectType"] in types
        ]
        if not mine:
            continue
        total = sum((amount(d) for d in mine), ZERO)
        if not closing.take(campaign, action, total):
            closing.effects = [d for d in closing.effects if not any(d is m for m in mine)]
        elif action is LimitAction.SET_DISCOUNT:
            for document in mine:
                closing.record("discounts", document)


def _points(closing: Closing) -> None:
    unit, now = closing.unit, closing.now
    dropped: list[Doc] = []
    for document in closing.effects:
        props = document["props"]
        if document["effectType"] == "addLoyaltyPoints":
            unit.add_points(
                program_id=int(props["programId"]),
                integration_id=str(props["recipientIntegrationId"]),
                subledger_id=str(props["subLedgerId"]),
                amount=amount(document),
                name=str(props["name"]),
                start=_moment(props.get("startDate")),
                expiry=_moment(props.get("expiryDate")),
                application_id=closing.application_id,
                session_id=closing.session_id,
                transaction_uuid=str(props["transactionUUID"]),
                now=now,
            )
            closing.record("added", document)
        elif document["effectType"] == "deductLoyaltyPoints":
            spent = unit.deduct_points(
                program_id=int(props["programId"]),
                integration_id=closing.profile_id,
                subledger_id=str(props["subLedgerId"]),
                amount=amount(document),
                name=str(props["name"]),
                application_id=closing.application_id,
                session_id=closing.session_id,
                transaction_uuid=str(props["transactionUUID"]),
                now=now,
            )
            if spent:
                closing.record("deducted", document)
            else:
                dropped.append(document)
    closing.effects = [d for d in closing.effects if not any(d is x for x in dropped)]


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- cancelling a closed session ----------------------------------------------------------------


def revoke(
    unit: SessionUnit, committed: dict[str, list[Doc]], profile_id: str, now: datetime
) -> list[Doc]:
    """Undo what closing committed; return the rollback effects."""
    return list(_revoke(unit, committed, profile_id, now))


def _revoke(
    unit: SessionUnit, committed: dict[str, list[Doc]], profile_id: str, now: datetime
) -> Iterator[Doc]:
    for entry in committed.get("usage", []):
        unit.return_campaign_usage(
            int(entry["campaignId"]),
            str(entry["action"]),
            str(entry["integrationId"]),
            Decimal(entry["amount"]),
        )
    for entry in committed.get("coupons", []):
        unit.unredeem_coupon(int(entry["id"]), profile_id, Decimal(entry["discount"]))
        yield derived(entry["effect"], "rollbackCoupon", {"value": entry["code"]})
    for entry in committed.get("referrals", []):
        unit.unredeem_referral(int(entry["id"]), profile_id)
        yield derived(entry["effect"], "rollbackReferral", {"value": entry["code"]})
    for document in committed.get("discounts", []):
        props = document["props"]
        rollback: Doc = {"name": props["name"], "value": props["value"]}
        if "position" in props:
            rollback["cartItemPosition"] = props["position"]
        if "scope" in props:
            rollback["scope"] = props["scope"]
        yield derived(document, "rollbackDiscount", rollback)
    for kind, rollback_type in (
        ("added", "rollbackAddedLoyaltyPoints"),
        ("deducted", "rollbackDeductedLoyaltyPoints"),
    ):
        for document in committed.get(kind, []):
            props = document["props"]
            unit.reverse_transaction(str(props["transactionUUID"]), now)
            yield derived(
                document,
                rollback_type,
                {
                    "programId": props["programId"],
                    "subLedgerId": props["subLedgerId"],
                    "value": props["value"],
                    "recipientIntegrationId": props.get("recipientIntegrationId", profile_id),
                    "transactionUUID": props["transactionUUID"],
                },
            )
