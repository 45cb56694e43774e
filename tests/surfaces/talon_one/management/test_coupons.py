"""Coupons through the official SDK's Management API, and ``patron coupons`` on the same shop."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.store.promotions.support import make_campaign
from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures


def test_a_campaigns_coupons_made_read_changed_and_deleted_with_the_sdk(shop: TalonShop) -> None:
    campaign_id = make_campaign(shop.database_url, shop.application_id)
    api = shop.management
    expiry = datetime.now(UTC) + timedelta(days=30)
    body = talon_one.NewCoupons(
        usage_limit=2,
        number_of_coupons=3,
        coupon_pattern="SPRING-####",
        valid_characters=list("XYZ789"),
        expiry_date=expiry,
        limits=[talon_one.LimitConfig(action="redeemCoupon", limit=1, entities=["Profile"])],
        attributes={"channel": "mail"},
    )
    made = api.create_coupons(shop.application_id, campaign_id, body)
    assert made.total_result_size == 3
    assert all(re.fullmatch(r"SPRING-[XYZ789]{4}", coupon.value) for coupon in made.data)
    first = made.data[0]
    assert (first.usage_limit, first.usage_counter, first.campaign_id) == (2, 0, campaign_id)
    assert first.limits[0].limit == 1
    assert first.attributes == {"channel": "mail"}
    assert abs((first.expiry_date - expiry).total_seconds()) < 1
    # (The SDK cannot read the 204 it asks for with silent=yes: that one is sent raw.)
    silent = httpx.post(
        f"{shop.url}/v1/applications/{shop.application_id}/campaigns/{campaign_id}/coupons",
        params={"silent": "yes"},
        json={"usageLimit": 2, "numberOfCoupons": 3, "couponPattern": "SILENT-####"},
        headers=shop.management_headers(),
    )
    assert (silent.status_code, silent.content) == (204, b"")

    page = api.get_coupons_without_total_count(shop.application_id, campaign_id, page_size=4)
    assert page.has_more is True
    assert len(page.data) == 4
    found = api.get_coupons_without_total_count(
        shop.application_id, campaign_id, value=first.value.lower(), exact_match=True
    )
    assert [coupon.id for coupon in found.data] == [first.id]

    changed = api.update_coupon(
        shop.application_id, campaign_id, first.id,
        talon_one.UpdateCoupon(usage_limit=5, recipient_integration_id="ann"),
    )  # fmt: skip
    assert (changed.usage_limit, changed.recipient_integration_id) == (5, "ann")
    assert changed.attributes == {"channel": "mail"}
    mine = api.get_coupons_without_total_count(
        shop.application_id, campaign_id, recipient_integration_id="ann"
    )
    assert [coupon.id for coupon in mine.data] == [first.id]

    api.delete_coupon(shop.application_id, campaign_id, first.id)
    with pytest.raises(ApiException) as gone:
        api.delete_coupon(shop.application_id, campaign_id, first.id)
    talon_error(gone.value, 404)
    left = api.get_coupons_without_total_count(shop.application_id, campaign_id)
    assert (len(left.data), left.has_more) == (5, False)


def test_coupons_for_recipients_and_from_the_cli(shop: TalonShop) -> None:
    campaign_id = make_campaign(
        shop.database_url, shop.application_id, coupon_settings={"couponPattern": "VIP-#####"}
    )
    body = talon_one.NewCouponsForMultipleRecipients(
        usage_limit=1, recipients_integration_ids=["ann", "bob"]
    )
    made = shop.management.create_coupons_for_multiple_recipients(
        shop.application_id, campaign_id, body
    )
    assert sorted(c.recipient_integration_id for c in made.data) == ["ann", "bob"]
    assert all(re.fullmatch(r"VIP-[A-Z0-9]{5}", c.value) for c in made.data)

    created = shop.cli(
        "coupons", "create", "--application", str(shop.application_id),
        "--campaign", str(campaign_id), "--count", "1500", "--pattern", "CLI-########",
        "--usage-limit", "3", "--expiry", "2030-01-01",
    )  # fmt: skip
    assert created["created"] == 1500
    listed = shop.cli(
        "coupons", "list", "--application", str(shop.application_id),
        "--batch", created["batchId"], "--limit", "1000",
    )  # fmt: skip
    assert len(listed) == 1000
    assert all(entry["usageLimit"] == 3 for entry in listed)
    page = shop.management.get_coupons_without_total_count(
        shop.application_id, campaign_id, batch_id=created["batchId"], skip=1000
    )
    assert len(page.data) == 500
    assert page.has_more is False
    assert all(c.expiry_date == datetime(2030, 1, 1, tzinfo=UTC) for c in page.data)


def test_bad_coupon_requests_answer_400_in_talons_format(shop: TalonShop) -> None:
    campaign_id = make_campaign(shop.database_url, shop.application_id)
    url = f"{shop.url}/v1/applications/{shop.application_id}/campaigns/{campaign_id}/coupons"
    headers = shop.management_headers()
    bad = {"usageLimit": 1_000_000, "numberOfCoupons": 1}
    error = raw_talon_error(httpx.post(url, json=bad, headers=headers), 400)
    assert error["errors"][0]["source"]["pointer"] == "/usageLimit"
    for body in (
        {"usageLimit": 1},
        {"usageLimit": 1, "numberOfCoupons": "3"},
        {"usageLimit": 1, "numberOfCoupons": 2, "couponPattern": "NOHASH"},
        {"usageLimit": 1, "numberOfCoupons": 1, "expiryDate": "soon"},
        {"usageLimit": 1, "numberOfCoupons": 1, "limits": [{"action": "setDiscount"}]},
    ):
        raw_talon_error(httpx.post(url, json=body, headers=headers), 400)
    raw_talon_error(httpx.get(f"{url}/no_total?valid=sometimes", headers=headers), 400)
    missing = url.replace(f"campaigns/{campaign_id}", f"campaigns/{campaign_id + 1}")
    one = {"usageLimit": 1, "numberOfCoupons": 1}
    raw_talon_error(httpx.post(missing, json=one, headers=headers), 404)
