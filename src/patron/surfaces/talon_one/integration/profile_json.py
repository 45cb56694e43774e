"""Talon's JSON of profiles, inventories and loyalty balances (PY9's models, and the
union of the fields older SDKs require). Optional fields without a value are left
out rather than sent as ``null``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from patron.domain.promotions.inventory import (
    HeldCoupon,
    HeldReferral,
    Holdings,
    ProgramBalance,
)
from patron.domain.promotions.model import LoyaltyBalance
from patron.domain.promotions.profiles import TalonProfile
from patron.surfaces.talon_one.wire import customer_profile, moment, number

EMPTY_EVALUATION: dict[str, Any] = {"effects": [], "createdCoupons": [], "createdReferrals": []}


def _present(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def customer_profile_json(profile: TalonProfile) -> dict[str, Any]:
    return customer_profile(
        workspace_id=profile.profile.workspace_id,
        integration_id=profile.integration_id,
        created=profile.profile.created_at,
        attributes=profile.attributes,
        account_id=profile.account_id,
        closed_sessions=profile.totals.closed_sessions,
        total_sales=profile.totals.total_sales,
        last_activity=profile.last_activity,
        audiences=profile.audiences,
        loyalty=profile.loyalty,
    )


def ledger_json(balance: LoyaltyBalance) -> dict[str, Any]:
    return {
        "currentBalance": number(balance.current),
        "pendingBalance": number(balance.pending),
        "expiredBalance": number(balance.expired),
        "spentBalance": number(balance.spent),
        "tentativeCurrentBalance": number(balance.tentative),
        "tentativePendingBalance": number(balance.pending),
        "negativeBalance": 0,
        "tentativeNegativeBalance": 0,
    }


def loyalty_json(programs: list[ProgramBalance]) -> dict[str, Any]:
    return {
        "programs": {
            str(program.id): _present(
                {
                    "id": program.id,
                    "title": program.title,
                    "name": program.name,
                    "joinDate": moment(program.joined),
                    "ledger": ledger_json(program.balance),
                    "subLedgers": {
                        name: ledger_json(balance) for name, balance in program.subledgers.items()
                    },
                }
            )
            for program in programs
        }
    }


def inventory_coupon_json(coupon: HeldCoupon, now: datetime) -> dict[str, Any]:
    return _present(
        {
            "id": coupon.id,
            "created": moment(coupon.created),
            "campaignId": coupon.campaign_id,
            "value": coupon.value,
            "usageLimit": coupon.usage_limit,
            "discountLimit": number(coupon.discount_limit),
            "reservationLimit": coupon.reservation_limit,
            "startDate": moment(coupon.start_date),
            "expiryDate": moment(coupon.expiry_date),
            "limits": [],
            "usageCounter": coupon.usage_counter,
            "discountCounter": number(coupon.discount_counter),
            "attributes": dict(coupon.attributes),
            "recipientIntegrationId": coupon.recipient_integration_id,
            "reservation": not coupon.is_reservation_mandatory,
            "batchId": coupon.batch_id,
            "isReservationMandatory": coupon.is_reservation_mandatory,
            "implicitlyReserved": coupon.implicitly_reserved,
            "profileRedemptionCount": coupon.profile_redemptions,
            "state": coupon.state(now).value,
        }
    )


def inventory_referral_json(referral: HeldReferral) -> dict[str, Any]:
    return _present(
        {
            "id": referral.id,
            "created": moment(referral.created),
            "startDate": moment(referral.start_date),
            "expiryDate": moment(referral.expiry_date),
            "usageLimit": referral.usage_limit,
            "campaignId": referral.campaign_id,
            "advocateProfileIntegrationId": referral.advocate_integration_id,
            "friendProfileIntegrationId": referral.friend_integration_id,
            "attributes": dict(referral.attributes),
            "code": referral.code,
            "usageCounter": referral.usage_counter,
            "batchId": referral.batch_id,
            "referredCustomers": list(referral.referred_customers),
        }
    )


def inventory_json(
    profile: TalonProfile | None, holdings: Holdings, now: datetime, *, extra: list[str]
) -> dict[str, Any]:
    """The asked-for parts of ``CustomerInventory``; ``extra``: parts Patron has none of
    (giveaways, achievements), answered as empty lists."""
    document: dict[str, Any] = {}
    if profile is not None:
        document["profile"] = customer_profile_json(profile)
    if holdings.loyalty is not None:
        document["loyalty"] = loyalty_json(holdings.loyalty)
    if holdings.referrals is not None:
        document["referrals"] = [inventory_referral_json(r) for r in holdings.referrals]
    if holdings.coupons is not None:
        document["coupons"] = [inventory_coupon_json(c, now) for c in holdings.coupons]
    for name in extra:
        document[name] = []
    return document


# -- API v1 ---------------------------------------------------------------------------


def integration_state_v1(profile: TalonProfile, application_id: int) -> dict[str, Any]:
    """v1's ``IntegrationState`` after a profile update: the profile, an empty session
    (a profile update concerns none) and the profile-updated event, with no effects."""
    at = moment(profile.profile.updated_at)
    return {
        "session": {
            "integrationId": "",
            "created": at,
            "updated": at,
            "applicationId": application_id,
            "profileId": profile.integration_id,
            "coupon": "",
            "referral": "",
            "state": "open",
            "cartItems": [],
            "total": 0,
            "attributes": {},
            "firstSession": profile.totals.closed_sessions == 0,
            "discounts": {},
        },
        "profile": customer_profile_json(profile),
        "event": {
            "id": 0,
            "created": at,
            "applicationId": application_id,
            "profileId": profile.integration_id,
            "type": "talon_profile_updated",
            "attributes": {},
            "effects": [],
            "ledgerEntries": [],
        },
    }
