"""Campaigns: created with the legacy SDK's body (raw HTTP, as that SDK sends it), read,
updated, listed and deleted with the current SDK, unmodified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures


def legacy_new_campaign(name: str, **overrides: Any) -> dict[str, Any]:
    """Every key of the legacy SDK's ``NewCampaign`` (what its ``create_campaign`` sends)."""
    body = {
        "name": name,
        "description": "Spring sale",
        "startTime": "2020-03-01T00:00:00Z",
        "endTime": "2999-06-01T00:00:00Z",
        "attributes": {"channel": "web"},
        "state": "enabled",
        "tags": ["spring", "web"],
        "features": ["coupons", "referrals"],
        "couponSettings": {"validCharacters": ["A", "B", "C", "7"], "couponPattern": "SP-####"},
        "referralSettings": {"validCharacters": ["X", "Y"], "couponPattern": "REF-#####"},
        "limits": [
            {"action": "redeemCoupon", "limit": 1000, "entities": ["Coupon"]},
            {"action": "setDiscount", "limit": 5000.5, "entities": []},
        ],
        "campaignGroups": [],
    }
    return {**body, **overrides}


def campaigns_url(shop: TalonShop, application_id: int | str | None = None) -> str:
    return f"{shop.url}/v1/applications/{application_id or shop.application_id}/campaigns"


def create(shop: TalonShop, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(campaigns_url(shop), json=body, headers=shop.management_headers())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_campaign_made_with_the_legacy_body_is_read_updated_listed_and_deleted(
    shop: TalonShop,
) -> None:
    created = create(shop, legacy_new_campaign("Spring"))
    api = shop.management
    campaign = api.get_campaign(shop.application_id, created["id"])
    assert (campaign.id, campaign.application_id, campaign.name) == (
        created["id"],
        shop.application_id,
        "Spring",
    )
    assert campaign.state == "enabled"
    assert campaign.frontend_state == "running"
    assert campaign.type == "advanced"
    assert campaign.tags == ["spring", "web"]
    assert campaign.features == ["coupons", "referrals"]
    assert campaign.attributes == {"channel": "web"}
    assert campaign.coupon_settings.coupon_pattern == "SP-####"
    assert campaign.referral_settings.valid_characters == ["X", "Y"]
    assert [(limit.action, limit.limit) for limit in campaign.limits] == [
        ("redeemCoupon", 1000),
        ("setDiscount", 5000.5),
    ]
    assert campaign.start_time == datetime(2020, 3, 1, tzinfo=UTC)
    assert campaign.budgets == []
    assert campaign.stores_imported is False
    assert campaign.active_ruleset_id is None

    # The current SDK's update: what it sends is what changes; the rest stays.
    updated = api.update_campaign(
        shop.application_id,
        campaign.id,
        talon_one.UpdateCampaign(
            name="Spring (ended)",
            tags=["spring"],
            features=["coupons"],
            limits=[talon_one.LimitConfig(action="redeemCoupon", limit=10, entities=["Profile"])],
            state="disabled",
            description="Over",
        ),
    )
    assert (updated.name, updated.state, updated.frontend_state) == (
        "Spring (ended)",
        "disabled",
        "disabled",
    )
    assert updated.coupon_settings.coupon_pattern == "SP-####"  # not sent: kept
    assert api.get_campaign(shop.application_id, campaign.id).description == "Over"

    second = create(shop, legacy_new_campaign("Summer", tags=["summer"]))
    listed = api.get_campaigns(shop.application_id)
    assert listed.total_result_size == 2
    assert [found.name for found in listed.data] == ["Spring (ended)", "Summer"]
    assert [
        c.id for c in api.get_campaigns(shop.application_id, campaign_state="running").data
    ] == [second["id"]]
    assert [c.id for c in api.get_campaigns(shop.application_id, tags="SUMM").data] == [
        second["id"]
    ]
    paged = api.get_campaigns(shop.application_id, page_size=1, skip=0, sort="-name")
    assert (paged.total_result_size, [c.name for c in paged.data]) == (2, ["Summer"])

    api.delete_campaign(shop.application_id, campaign.id)
    with pytest.raises(ApiException) as gone:
        api.get_campaign(shop.application_id, campaign.id)
    talon_error(gone.value, 404)
    assert [c.id for c in api.get_campaigns(shop.application_id).data] == [second["id"]]


def test_the_current_sdks_update_body_creates_too_and_times_give_the_state(
    shop: TalonShop,
) -> None:
    client = shop.management.api_client
    now = datetime.now(UTC)
    shapes = {
        "scheduled": talon_one.UpdateCampaign(
            name="Later", tags=[], features=[], limits=[], start_time=now + timedelta(days=3)
        ),
        "expired": talon_one.UpdateCampaign(
            name="Past", tags=[], features=["loyalty"], limits=[], end_time=now - timedelta(days=1)
        ),
        "running": talon_one.UpdateCampaign(
            name="Now", tags=[], features=[], limits=[], type="cartItem", description="d"
        ),
    }
    for expected, model in shapes.items():
        created = create(shop, client.sanitize_for_serialization(model))
        assert created["frontendState"] == expected
        assert created["priority"] == 0
    states = shop.management.get_campaigns(shop.application_id, campaign_state="enabled")
    assert sorted(c.frontend_state for c in states.data) == ["expired", "running", "scheduled"]
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert shop.management.get_campaigns(shop.application_id, created_after=later).data == []
    # null clears an optional key (the SDKs never send null: raw clients may)
    [scheduled] = shop.management.get_campaigns(shop.application_id, name="later").data
    response = httpx.put(
        f"{campaigns_url(shop)}/{scheduled.id}",
        json={"startTime": None, "priority": 5, "couponSettings": {"couponPattern": "X-####"}},
        headers=shop.management_headers(),
    )
    assert response.status_code == 200, response.text
    assert (response.json()["frontendState"], response.json()["priority"]) == ("running", 5)
    assert "startTime" not in response.json()
    # What the SDKs need back is filled in: here the default characters.
    settings = shop.management.get_campaign(shop.application_id, scheduled.id).coupon_settings
    assert (settings.coupon_pattern, len(settings.valid_characters)) == ("X-####", 36)


BAD_BODIES: list[tuple[Any, str]] = [
    ({"state": "enabled"}, "/name"),
    ({"name": 5}, "/name"),
    ({"name": "x", "state": "running"}, "/state"),
    ({"name": "x", "features": ["teleport"]}, "/features"),
    ({"name": "x", "tags": "a,b"}, "/tags"),
    ({"name": "x", "limits": [{"action": "setDiscount", "limit": -1}]}, "/limits/0/limit"),
    (
        {"name": "x", "limits": [{"action": "setDiscount", "limit": 1, "entities": ["Moon"]}]},
        "/limits/0/entities",
    ),
    (
        {"name": "x", "limits": [{"action": "redeemCoupon", "limit": 1, "period": "daily"}]},
        "/limits/0/period",
    ),
    ({"name": "x", "limits": {"action": "x"}}, "/limits"),
    (
        {"name": "x", "couponSettings": {"couponPattern": "a b #", "validCharacters": ["A"]}},
        "/couponSettings/couponPattern",
    ),
    (
        {"name": "x", "couponSettings": {"couponPattern": "####", "validCharacters": [1]}},
        "/couponSettings/validCharacters",
    ),
    ({"name": "x", "startTime": "yesterday"}, "/startTime"),
    (
        {"name": "x", "startTime": "2025-01-02T00:00:00Z", "endTime": "2025-01-01T00:00:00Z"},
        "/endTime",
    ),
    ({"name": "x", "activeRulesetId": 1}, "/activeRulesetId"),
    ({"name": "x", "activeRulesetId": 2**40}, "/activeRulesetId"),
    ({"name": "x", "priority": 2**40}, "/priority"),
    ({"name": "x", "type": "bundle"}, "/type"),
    ({"name": "x", "attributes": []}, "/attributes"),
    ({"name": ""}, "/name"),
]


def test_bad_campaigns_are_refused_with_a_pointer_and_nothing_is_made(shop: TalonShop) -> None:
    with httpx.Client(headers=shop.management_headers()) as client:
        for body, pointer in BAD_BODIES:
            response = client.post(campaigns_url(shop), json=body)
            error = raw_talon_error(response, 400)
            pointers = [item["source"].get("pointer") for item in error["errors"]]
            assert pointer in pointers, (body, error)
    assert shop.management.get_campaigns(shop.application_id).total_result_size == 0


def test_what_is_not_a_campaign_is_a_4xx_in_talons_format(shop: TalonShop) -> None:
    headers = shop.management_headers()
    created = create(shop, legacy_new_campaign("Spring"))
    url = campaigns_url(shop)
    cases = [
        ("POST", url, b"{not json", 400),
        ("POST", url, b"[1, 2]", 400),
        ("PUT", f"{url}/{created['id']}", b'{"name": null, "tags": 3}', 400),
        ("GET", f"{url}/{created['id'] + 1000}", None, 404),
        ("GET", f"{url}/99999999999", None, 404),
        ("GET", f"{url}/abc", None, 404),
        ("PUT", f"{url}/0", b"{}", 404),
        ("DELETE", f"{url}/{created['id'] + 1000}", None, 404),
        ("GET", campaigns_url(shop, 424242), None, 404),
        ("POST", campaigns_url(shop, 424242), b'{"name": "x"}', 404),
        ("GET", f"{url}?pageSize=0", None, 400),
        ("GET", f"{url}?skip=-1", None, 400),
        ("GET", f"{url}?sort=colour", None, 400),
        ("GET", f"{url}?campaignState=sleeping", None, 400),
        ("GET", f"{url}?createdBefore=soon", None, 400),
    ]
    with httpx.Client(headers=headers) as client:
        for method, target, content, status in cases:
            response = client.request(method, target, content=content)
            raw_talon_error(response, status)
        unauthorized = httpx.get(url, headers={"Authorization": "ManagementKey-v1 nope"})
        raw_talon_error(unauthorized, 401)
    # Query errors name the parameter.
    response = httpx.get(f"{url}?pageSize=5000", headers=headers)
    assert raw_talon_error(response, 400)["errors"][0]["source"] == {"parameter": "pageSize"}
