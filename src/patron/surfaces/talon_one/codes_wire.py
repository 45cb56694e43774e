"""Talon's JSON for audiences and referrals (both APIs)."""

from __future__ import annotations

from typing import Any

from patron.domain.promotions.audiences import Audience
from patron.domain.promotions.referrals import ReferralRecord
from patron.surfaces.talon_one.wire import moment


def audience_json(audience: Audience, account_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "accountId": account_id,
        "id": audience.id,
        "created": moment(audience.created_at),
        "name": audience.name,
        "sandbox": False,
        "createdIn3rdParty": audience.integration is not None,
        "lastUpdate": moment(audience.updated_at),
    }
    if audience.integration is not None:
        body["integration"] = audience.integration
    if audience.integration_id is not None:
        body["integrationId"] = audience.integration_id
    return body


def referral_json(referral: ReferralRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": referral.id,
        "created": moment(referral.created_at),
        "campaignId": referral.campaign_id,
        "advocateProfileIntegrationId": referral.advocate_integration_id,
        "code": referral.code,
        "usageCounter": referral.usage_counter,
        "usageLimit": referral.usage_limit,
        "attributes": dict(referral.attributes),
    }
    if referral.friend_integration_id is not None:
        body["friendProfileIntegrationId"] = referral.friend_integration_id
    if referral.start_date is not None:
        body["startDate"] = moment(referral.start_date)
    if referral.expiry_date is not None:
        body["expiryDate"] = moment(referral.expiry_date)
    if referral.batch_id is not None:
        body["batchId"] = referral.batch_id
    return body
