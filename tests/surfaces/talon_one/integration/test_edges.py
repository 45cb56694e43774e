"""Odd input to the audience and referral routes: a 4xx in Talon's format, never a 5xx
(in-process, both databases)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.services import Services
from tests.conftest import make_workspace
from tests.surfaces.talon_one.support import raw_talon_error

pytestmark = pytest.mark.anyio

HUGE = 2**63 + 5


@pytest.fixture
async def keys(app_services: tuple[object, Services]) -> dict[str, Any]:
    services = app_services[1]
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    campaign = await services.campaigns.create(
        workspace.id, CampaignRecord(0, issued.application.id, "Friends", features=("referrals",))
    )
    return {
        "integration": {"Authorization": f"ApiKey-v1 {issued.integration_key}"},
        "management": {"Authorization": f"ManagementKey-v1 {issued.management_key}"},
        "application": issued.application.id,
        "campaign": campaign.id,
    }


INTEGRATION: list[tuple[str, str, Any, int]] = [
    (
        "POST",
        "/v2/customer_audiences",
        {"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": HUGE}]},
        400,
    ),
    (
        "POST",
        "/v2/customer_audiences",
        {"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 2**31 - 1}]},
        404,
    ),
    ("POST", "/v2/customer_audiences", {"data": {"action": "add"}}, 400),
    ("POST", "/v2/audiences", {"name": ["VIP"]}, 400),
    ("POST", "/v2/audiences", {"name": "VIP", "integration": "x" * 101}, 400),
    ("PUT", f"/v2/audiences/{HUGE}", {"name": "VIP"}, 404),
    ("DELETE", "/v2/audiences/abc", None, 404),
    ("DELETE", "/v2/audiences/7/memberships", None, 404),
    ("POST", "/v1/referrals", {"campaignId": HUGE, "advocateProfileIntegrationId": "a"}, 400),
    (
        "POST",
        "/v1/referrals",
        {
            "campaignId": 1,
            "advocateProfileIntegrationId": "a",
            "startDate": "0001-01-01T00:00:00+05:00",
        },
        400,
    ),
    ("POST", "/v1/referrals", [1, 2], 400),
    (
        "POST",
        "/v1/referrals_for_multiple_advocates",
        {"campaignId": 1, "usageLimit": 1, "advocateProfileIntegrationIds": [None, 5]},
        400,
    ),
    ("POST", "/v1/referrals_for_multiple_advocates?silent=maybe", {}, 400),
    (
        "POST",
        "/v1/referrals_for_multiple_advocates",
        {
            "campaignId": 1,
            "usageLimit": 1,
            "advocateProfileIntegrationIds": ["a"],
            "validCharacters": ["ab"],
        },
        400,
    ),
]


@pytest.mark.parametrize("case", INTEGRATION)
async def test_odd_integration_requests_are_4xx(
    api: httpx.AsyncClient, keys: dict[str, Any], case: tuple[str, str, Any, int]
) -> None:
    method, path, body, status = case
    response = await api.request(method, path, json=body, headers=keys["integration"])
    raw_talon_error(response, status)


MANAGEMENT = [
    ("/v1/audiences?pageSize=0", 400),
    ("/v1/audiences?skip=9999999999999999999", 400),
    ("/v1/audiences?skip=-1", 400),
    ("/v1/audiences?withTotalResultSize=perhaps", 400),
    (
        "/v1/applications/{app}/campaigns/{campaign}/referrals/no_total?createdBefore=0001-01-01T00:00:00%2B05:00",
        400,
    ),
    ("/v1/applications/{app}/campaigns/{campaign}/referrals/no_total?valid=always", 400),
    ("/v1/applications/{app}/campaigns/{campaign}/referrals/no_total?sort=code", 400),
    ("/v1/applications/{app}/campaigns/999/referrals/no_total", 404),
    ("/v1/applications/999/campaigns/{campaign}/referrals/no_total", 404),
]


@pytest.mark.parametrize(("path", "status"), MANAGEMENT)
async def test_odd_management_requests_are_4xx(
    api: httpx.AsyncClient, keys: dict[str, Any], path: str, status: int
) -> None:
    url = path.format(app=keys["application"], campaign=keys["campaign"])
    response = await api.get(url, headers=keys["management"])
    raw_talon_error(response, status)


async def test_a_referral_update_with_odd_fields_is_4xx(
    api: httpx.AsyncClient, keys: dict[str, Any]
) -> None:
    made = await api.post(
        "/v1/referrals",
        json={"campaignId": keys["campaign"], "advocateProfileIntegrationId": "a"},
        headers=keys["integration"],
    )
    assert made.status_code == 201, made.text
    campaign = f"/v1/applications/{keys['application']}/campaigns/{keys['campaign']}"
    url = f"{campaign}/referrals/{made.json()['id']}"
    for body in (
        {"usageLimit": "3"},
        {"expiryDate": 5},
        {"attributes": "x"},
        {"friendProfileIntegrationId": 7},
    ):
        raw_talon_error(await api.put(url, json=body, headers=keys["management"]), 400)
    response = await api.put(
        url, json={"friendProfileIntegrationId": ""}, headers=keys["management"]
    )
    assert response.status_code == 200
    assert "friendProfileIntegrationId" not in response.json()
