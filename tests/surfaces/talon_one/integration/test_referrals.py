"""Referral codes through the official SDK: made for one advocate or many (``silent``),
then changed, listed and deleted through the Management API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
import talon_one
from sqlalchemy import create_engine, insert
from talon_one.rest import ApiException

from patron.store.promotions.tables import campaigns
from tests.surfaces.talon_one.support import TalonShop, raw_talon_error, server, shop, talon_error

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def referral_campaign(shop: TalonShop, **settings: object) -> int:
    """A campaign with the referrals feature, written to the shop's database directly."""
    engine = create_engine(shop.database_url)
    row = {
        "application_id": shop.application_id,
        "name": "Friends",
        "state": "enabled",
        "features": ["referrals"],
        "tags": [],
        "limits": [],
        "referral_settings": settings
        or {"couponPattern": "FRIEND-####", "validCharacters": list("ABC")},
        "attributes": {},
        "created_at": NOW,
        "updated_at": NOW,
    }
    with engine.begin() as connection:
        campaign_id = connection.execute(insert(campaigns).values(row).returning(campaigns.c.id))
        found = int(campaign_id.scalar_one())
    engine.dispose()
    return found


def test_a_referral_code_for_one_advocate(shop: TalonShop) -> None:
    campaign_id = referral_campaign(shop)
    made = shop.integration.create_referral(
        talon_one.NewReferral(
            campaign_id=campaign_id,
            advocate_profile_integration_id="ada",
            friend_profile_integration_id="bea",
            usage_limit=3,
            expiry_date=datetime(2030, 1, 1, tzinfo=UTC),
            attributes={"channel": "mail"},
        )
    )
    assert re.fullmatch(r"FRIEND-[ABC]{4}", made.code)
    assert (made.campaign_id, made.advocate_profile_integration_id) == (campaign_id, "ada")
    assert (made.friend_profile_integration_id, made.usage_limit, made.usage_counter) == (
        "bea",
        3,
        0,
    )
    assert made.expiry_date == datetime(2030, 1, 1, tzinfo=UTC)
    assert made.attributes == {"channel": "mail"}

    with pytest.raises(ApiException) as unknown:
        shop.integration.create_referral(
            talon_one.NewReferral(campaign_id=campaign_id + 50, advocate_profile_integration_id="a")
        )
    error = talon_error(unknown.value, 400)
    assert error["errors"][0]["source"] == {"pointer": "/campaignId"}
    response = httpx.post(
        f"{shop.url}/v1/referrals",
        json={"campaignId": campaign_id, "advocateProfileIntegrationId": "a", "usageLimit": 10**6},
        headers=shop.integration_headers(),
    )
    assert raw_talon_error(response, 400)["errors"][0]["source"] == {"pointer": "/usageLimit"}


def test_codes_for_many_advocates_as_silent_asks(shop: TalonShop) -> None:
    campaign_id = referral_campaign(shop)
    body = talon_one.NewReferralsForMultipleAdvocates(
        campaign_id=campaign_id,
        usage_limit=1,
        advocate_profile_integration_ids=["a1", "a2", "a3"],
        referral_pattern="MANY-#####",
        valid_characters=list("xyz"),
    )
    answered = shop.integration.create_referrals_for_multiple_advocates(body)  # silent absent
    assert answered.total_result_size == 3
    assert [r.advocate_profile_integration_id for r in answered.data] == ["a1", "a2", "a3"]
    assert all(re.fullmatch(r"MANY-[xyz]{5}", r.code) for r in answered.data)
    assert len({r.batch_id for r in answered.data}) == 1
    loud = shop.integration.create_referrals_for_multiple_advocates(body, silent="no")
    assert loud.total_result_size == 3
    quiet = httpx.post(
        f"{shop.url}/v1/referrals_for_multiple_advocates?silent=yes",
        json={"campaignId": campaign_id, "usageLimit": 1, "advocateProfileIntegrationIds": ["q"]},
        headers=shop.integration_headers(),
    )
    assert (quiet.status_code, quiet.content) == (204, b"")

    listed = shop.management.get_referrals_without_total_count(shop.application_id, campaign_id)
    assert len(listed.data) == 7
    codes = [r.code for r in listed.data]
    assert len(set(codes)) == 7
    assert listed.has_more is False


def test_management_changes_lists_and_deletes_codes(shop: TalonShop) -> None:
    campaign_id = referral_campaign(shop)
    made = [
        shop.integration.create_referral(
            talon_one.NewReferral(campaign_id=campaign_id, advocate_profile_integration_id=a)
        )
        for a in ("ann", "ben", "cyd")
    ]
    app = shop.application_id
    updated = shop.management.update_referral(
        app,
        campaign_id,
        made[0].id,
        talon_one.UpdateReferral(usage_limit=9, friend_profile_integration_id="f"),
    )
    assert (
        updated.id,
        updated.code,
        updated.usage_limit,
        updated.friend_profile_integration_id,
    ) == (
        made[0].id,
        made[0].code,
        9,
        "f",
    )
    page = shop.management.get_referrals_without_total_count(
        app, campaign_id, page_size=2, sort="-created"
    )
    assert ([r.id for r in page.data], page.has_more) == ([made[2].id, made[1].id], True)
    mine = shop.management.get_referrals_without_total_count(app, campaign_id, advocate="ben")
    assert [r.id for r in mine.data] == [made[1].id]

    shop.management.delete_referral(app, campaign_id, made[1].id)
    with pytest.raises(ApiException) as gone:
        shop.management.delete_referral(app, campaign_id, made[1].id)
    talon_error(gone.value, 404)
    left = shop.management.get_referrals_without_total_count(app, campaign_id)
    assert [r.id for r in left.data] == [made[0].id, made[2].id]
