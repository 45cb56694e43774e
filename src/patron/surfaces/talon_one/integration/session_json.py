"""A session update's answer in Talon's JSON: v2 ``IntegrationStateV2`` and v1 ``IntegrationState``.

Nested objects carry the union of the fields every SDK version requires
(SPEC §2.2); the v2 answer adds exactly the entities ``responseContent``
asks for (unknown values are ignored). Rendered to text here, inside the
transaction, so that an ``Idempotency-Key`` replays the very answer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

import orjson

from patron.domain.promotions import model
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.effects import RuleFailureReason
from patron.domain.promotions.idempotency import Answer
from patron.domain.promotions.session_effects import discounts, plain
from patron.domain.promotions.session_people import ProfileView
from patron.domain.promotions.session_ports import StoredSession
from patron.domain.promotions.session_steps import SessionOutcome
from patron.surfaces.talon_one import codes_wire, coupon_wire
from patron.surfaces.talon_one.wire import customer_profile, moment, number

SAFE_FEATURES = ("coupons", "referrals", "loyalty")  # the enum every SDK accepts
SAFE_ENTITIES = frozenset({"Coupon", "Referral", "Profile", "Identifier"})
V1_STATES = ("open", "closed", "cancelled")


def dumps(document: Any) -> str:
    return orjson.dumps(document).decode()


def profiles_of(outcome: SessionOutcome) -> tuple[str, ...]:
    """The profiles whose data an answer carries (erased with them)."""
    return tuple({outcome.profile.integration_id, outcome.session.profile_id} - {""})


def response_content(body: Mapping[str, Any]) -> frozenset[str]:
    asked = body.get("responseContent")
    if not isinstance(asked, list):
        return frozenset()
    return frozenset(item for item in asked if isinstance(item, str))


# -- v2 ---------------------------------------------------------------------------------------


def v2_state(outcome: SessionOutcome, content: Collection[str], account_id: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "effects": outcome.effects,
        "createdCoupons": [coupon_wire.coupon_json(c) for c in outcome.created_coupons],
        "createdReferrals": [codes_wire.referral_json(r) for r in outcome.created_referrals],
    }
    if "customerSession" in content:
        answer["customerSession"] = session_v2(outcome.session)
    if "customerProfile" in content and outcome.profile.integration_id:
        answer["customerProfile"] = profile_json(
            outcome.profile, outcome.session.workspace_id, account_id
        )
    if "event" in content:
        answer["event"] = event_json(outcome, outcome.effects)
    if "triggeredCampaigns" in content:
        answer["triggeredCampaigns"] = [
            campaign_json(c, account_id) for c in outcome.triggered_campaigns
        ]
    if "ruleFailureReasons" in content:
        reasons = outcome.evaluation.rule_failure_reasons if outcome.evaluation else ()
        answer["ruleFailureReasons"] = [failure_json(reason) for reason in reasons]
    if "coupons" in content:
        answer["coupons"] = [coupon_json(c) for c in outcome.coupons.values()]
    if "referral" in content and outcome.referral is not None:
        answer["referral"] = referral_json(outcome.referral)
    if "loyalty" in content and outcome.loyalty:
        answer["loyalty"] = loyalty_json(outcome.loyalty)
    if "awardedGiveaways" in content:
        answer["awardedGiveaways"] = []
    if "previousReturns" in content:
        answer["previousReturns"] = []
    return answer


def v2_answer(outcome: SessionOutcome, content: Collection[str], account_id: int) -> Answer:
    return Answer(200, dumps(v2_state(outcome, content, account_id)), profiles_of(outcome))


def session_v2(session: StoredSession) -> dict[str, Any]:
    data = session.data
    items = cart_items(data.get("cartItems", ()))
    item_total = sum((Decimal(str(i["price"])) * i["quantity"] for i in items), Decimal(0))
    found = {
        "id": session.id,
        "created": moment(session.created_at),
        "integrationId": session.integration_id,
        "applicationId": session.application_id,
        "profileId": session.profile_id,
        "couponCodes": list(data.get("couponCodes", ())),
        "referralCode": data.get("referralCode", ""),
        "loyaltyCards": list(data.get("loyaltyCards", ())),
        "state": session.state if session.state in V1_STATES else "closed",
        "cartItems": items,
        "additionalCosts": plain(data.get("additionalCosts", {})),
        "identifiers": list(data.get("identifiers", ())),
        "attributes": dict(data.get("attributes", {})),
        "firstSession": session.first_session,
        "total": number(session.total),
        "cartItemTotal": number(item_total),
        "additionalCostTotal": number(session.total - item_total),
        "updated": moment(session.updated_at),
        "updateCount": session.update_count,
    }
    if data.get("storeIntegrationId"):
        found["storeIntegrationId"] = data["storeIntegrationId"]
    return found


def cart_items(items: Any) -> list[dict[str, Any]]:
    """Cart items as sent, with ``name`` and ``price`` always there (SDK v3.3.0 needs them)."""
    echoed = []
    for item in items:
        line = dict(item)
        line["name"] = line.get("name") or line["sku"]
        line["price"] = line.get("price") if line.get("price") is not None else 0
        echoed.append(line)
    return echoed


def profile_json(profile: ProfileView, workspace_id: str, account_id: int) -> dict[str, Any]:
    return customer_profile(
        workspace_id=workspace_id,
        integration_id=profile.integration_id,
        created=profile.created_at,
        attributes=plain(dict(profile.attributes)),
        account_id=account_id,
        closed_sessions=profile.closed_sessions,
        total_sales=profile.total_sales,
        last_activity=profile.updated_at,
        audiences=[(a, profile.audience_names.get(a, str(a))) for a in profile.audiences],
    )


def event_json(outcome: SessionOutcome, effects: list[Any]) -> dict[str, Any]:
    event = outcome.event
    return {
        "id": event.id,
        "created": moment(event.created_at),
        "applicationId": outcome.session.application_id,
        "profileId": outcome.profile.integration_id,
        "type": event.type,
        "attributes": plain(dict(event.attributes)),
        "sessionId": outcome.session.integration_id,
        "effects": effects,
        "ledgerEntries": [],
    }


def campaign_json(campaign: CampaignRecord, account_id: int) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "created": moment(campaign.created_at),
        "applicationId": campaign.application_id,
        "userId": account_id,
        "name": campaign.name,
        "description": campaign.description,
        "startTime": moment(campaign.start_time),
        "endTime": moment(campaign.end_time),
        "attributes": dict(campaign.attributes),
        "state": campaign.state,
        "activeRulesetId": campaign.active_ruleset_id,
        "tags": list(campaign.tags),
        "features": [f for f in campaign.features if f in SAFE_FEATURES],
        "limits": [_limit(limit) for limit in campaign.limits],
        "type": campaign.type if campaign.type in ("cartItem", "advanced") else "advanced",
        "frontendState": "running" if campaign.state == "enabled" else campaign.state,
        "storesImported": False,
        "budgets": [],
    }


def _limit(limit: Mapping[str, Any]) -> dict[str, Any]:
    entities = [e for e in limit.get("entities") or () if e in SAFE_ENTITIES]
    found = {"action": limit.get("action"), "limit": limit.get("limit", 0), "entities": entities}
    if limit.get("period") in ("daily", "weekly", "monthly", "yearly"):
        found["period"] = limit["period"]
    return found


def failure_json(reason: RuleFailureReason) -> dict[str, Any]:
    found: dict[str, Any] = {
        "campaignID": reason.campaign_id,
        "campaignName": reason.campaign_name,
        "rulesetID": reason.ruleset_id,
        "ruleIndex": reason.rule_index,
        "ruleName": reason.rule_name,
        "details": reason.details,
    }
    optional = {
        "conditionIndex": reason.condition_index,
        "effectIndex": reason.effect_index,
        "couponID": reason.coupon_id,
        "couponValue": reason.coupon_value,
        "referralID": reason.referral_id,
        "referralValue": reason.referral_value,
    }
    found.update({key: value for key, value in optional.items() if value is not None})
    return found


def coupon_json(coupon: model.Coupon) -> dict[str, Any]:
    return {
        "id": coupon.id,
        "created": moment(coupon.start_date) or "1970-01-01T00:00:00Z",
        "campaignId": coupon.campaign_id,
        "value": coupon.code,
        "usageLimit": coupon.usage_limit,
        "usageCounter": coupon.usage_counter,
        "discountLimit": number(coupon.discount_limit),
        "discountCounter": number(coupon.discount_counter),
        "startDate": moment(coupon.start_date),
        "expiryDate": moment(coupon.expiry_date),
        "recipientIntegrationId": coupon.recipient_integration_id or None,
        "attributes": plain(dict(coupon.attributes)),
        "profileRedemptionCount": coupon.profile_redemptions,
    }


def referral_json(referral: model.Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "created": moment(referral.created_at or referral.start_date) or "1970-01-01T00:00:00Z",
        "campaignId": referral.campaign_id,
        "advocateProfileIntegrationId": referral.advocate_integration_id,
        "friendProfileIntegrationId": referral.friend_integration_id or None,
        "code": referral.code,
        "usageCounter": referral.usage_counter,
        "usageLimit": referral.usage_limit,
        "startDate": moment(referral.start_date),
        "expiryDate": moment(referral.expiry_date),
        "attributes": plain(dict(referral.attributes)),
        "referredCustomers": list(referral.referred_customers),
    }


def loyalty_json(programs: Mapping[str, model.LoyaltyProgram]) -> dict[str, Any]:
    return {
        "programs": {
            key: {
                "id": program.id,
                "title": program.name,
                "name": program.name,
                "ledger": {
                    "currentBalance": number(program.balance.current),
                    "pendingBalance": number(program.balance.pending),
                    "expiredBalance": number(program.balance.expired),
                    "spentBalance": number(program.balance.spent),
                    "tentativeCurrentBalance": number(program.balance.tentative),
                    "negativeBalance": 0,
                    "tentativeNegativeBalance": 0,
                },
            }
            for key, program in programs.items()
        }
    }


# -- v1 ---------------------------------------------------------------------------------------

_V1_ARGS = {
    "setDiscount": ("name", "value"),
    "acceptCoupon": ("value",),
    "rejectCoupon": ("value", "rejectionReason"),
    "acceptReferral": ("value",),
    "rejectReferral": ("value", "rejectionReason"),
}


def v1_effect(document: Mapping[str, Any]) -> list[Any]:
    """An effect as API v1 wrote it: ``[campaignId, rulesetId, ruleIndex, [name, args…]]``."""
    props = document["props"]
    names = _V1_ARGS.get(document["effectType"])
    args = [props.get(n) for n in names] if names else list(props.values())
    return [
        document["campaignId"],
        document["rulesetId"],
        document["ruleIndex"],
        [document["effectType"], *args],
    ]


def v1_state(outcome: SessionOutcome, account_id: int) -> dict[str, Any]:
    session = outcome.session
    data = session.data
    codes = list(data.get("couponCodes", ()))
    v1_session = {
        "integrationId": session.integration_id,
        "created": moment(session.created_at),
        "applicationId": session.application_id,
        "profileId": session.profile_id,
        "coupon": codes[0] if codes else "",
        "referral": data.get("referralCode", ""),
        "state": session.state if session.state in V1_STATES else "closed",
        "cartItems": cart_items(data.get("cartItems", ())),
        "identifiers": list(data.get("identifiers", ())),
        "total": number(session.total),
        "attributes": dict(data.get("attributes", {})),
        "firstSession": session.first_session,
        "discounts": {k: number(v) for k, v in discounts(outcome.effects).items()},
        "updated": moment(session.updated_at),
    }
    event = event_json(outcome, [v1_effect(d) for d in outcome.effects])
    return {
        "session": v1_session,
        "profile": profile_json(outcome.profile, outcome.session.workspace_id, account_id),
        "event": event,
    }


def v1_answer(outcome: SessionOutcome, account_id: int) -> Answer:
    return Answer(200, dumps(v1_state(outcome, account_id)), profiles_of(outcome))
