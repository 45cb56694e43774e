"""Odd input to the coupon and reservation routes: always a 4xx in Talon's format, never a 500.

In-process (no server): the app with its lifespan, on both databases.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.services import Services
from tests.conftest import make_workspace
from tests.store.promotions.support import campaign_of
from tests.surfaces.talon_one.support import error_body

pytestmark = pytest.mark.anyio

BODIES: list[Any] = [
    [],
    "text",
    {"usageLimit": None, "numberOfCoupons": 1},
    {"usageLimit": True, "numberOfCoupons": 1},
    {"usageLimit": 1.5, "numberOfCoupons": 1},
    {"usageLimit": -1, "numberOfCoupons": 1},
    {"usageLimit": 1, "numberOfCoupons": 0},
    {"usageLimit": 1, "numberOfCoupons": 10**30},
    {"usageLimit": 1, "numberOfCoupons": 1, "discountLimit": "NaN"},
    {"usageLimit": 1, "numberOfCoupons": 1, "discountLimit": 1e300},
    {"usageLimit": 1, "numberOfCoupons": 1, "discountLimit": {"a": 1}},
    {"usageLimit": 1, "numberOfCoupons": 1, "startDate": "2025-13-01"},
    {"usageLimit": 1, "numberOfCoupons": 1, "startDate": 5},
    {"usageLimit": 1, "numberOfCoupons": 1, "expiryDate": "2020-01-01", "startDate": "2021-01-01"},
    {"usageLimit": 1, "numberOfCoupons": 1, "validCharacters": []},
    {"usageLimit": 1, "numberOfCoupons": 1, "validCharacters": ["ab"]},
    {"usageLimit": 1, "numberOfCoupons": 1, "validCharacters": "AB"},
    {"usageLimit": 1, "numberOfCoupons": 1, "couponPattern": "#"},
    {"usageLimit": 1, "numberOfCoupons": 1, "couponPattern": 12},
    {"usageLimit": 1, "numberOfCoupons": 1, "couponPattern": "#" * 101},
    {"usageLimit": 1, "numberOfCoupons": 1, "uniquePrefix": "x" * 300},
    {"usageLimit": 1, "numberOfCoupons": 50, "couponPattern": "AB-#", "validCharacters": ["A"]},
    {"usageLimit": 1, "numberOfCoupons": 1, "attributes": []},
    {"usageLimit": 1, "numberOfCoupons": 1, "isReservationMandatory": "yes"},
    {"usageLimit": 1, "numberOfCoupons": 1, "recipientIntegrationId": "x" * 1001},
    {"usageLimit": 1, "numberOfCoupons": 1, "limits": {}},
    {"usageLimit": 1, "numberOfCoupons": 1, "limits": [{"action": "redeemCoupon"}]},
    {"usageLimit": 1, "numberOfCoupons": 1, "limits": [
        {"action": "redeemCoupon", "entities": ["Profile"], "limit": -2}]},
    {"usageLimit": 1, "numberOfCoupons": 1, "limits": [
        {"action": "redeemCoupon", "entities": ["Profile"], "limit": 1, "period": "daily"}]},
]  # fmt: skip
QUERIES = [
    "pageSize=0",
    "pageSize=1001",
    "pageSize=x",
    "skip=-1",
    "sort=nope",
    "valid=later",
    "usable=maybe",
    "usable=true&redeemed=false",
    "createdBefore=yesterday",
    "exactMatch=perhaps",
    "referralId=3",
]


async def test_odd_input_is_refused_in_talons_format(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    services = app_services[1]
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    application_id = issued.application.id
    campaign_id = await campaign_of(services, workspace.id, application_id)
    management = {"Authorization": f"ManagementKey-v1 {issued.management_key}"}
    integration = {"Authorization": f"ApiKey-v1 {issued.integration_key}"}
    base = f"/v1/applications/{application_id}/campaigns/{campaign_id}"

    async def refused(response: httpx.Response) -> None:
        assert 400 <= response.status_code < 500, (response.request.content[:200], response.text)
        error_body(response.json(), response.status_code)

    for body in BODIES:
        for path in ("/coupons", "/coupons_with_recipients"):
            await refused(await api.post(base + path, json=body, headers=management))
    for body in BODIES[2:]:
        await refused(await api.put(base + "/coupons/1", json=body, headers=management))
    for query in QUERIES:
        await refused(await api.get(f"{base}/coupons/no_total?{query}", headers=management))
    for path in ("/coupons/0", "/coupons/x", "/coupons/99999999999"):
        await refused(await api.delete(base + path, headers=management))
    for code in ("%FF", "%00", "", "NOPE%2F1"):
        for method in ("POST", "DELETE"):
            response = await api.request(
                method, f"/v1/coupon_reservations/{code}", json={"integrationIDs": ["a"]},
                headers=integration,
            )  # fmt: skip
            await refused(response)
        await refused(
            await api.get(f"/v1/coupon_reservations/customerprofiles/{code}", headers=integration)
        )
    made = await api.post(
        base + "/coupons", json={"usageLimit": 1, "numberOfCoupons": 1}, headers=management
    )
    assert made.status_code == 200, made.text
    code = made.json()["data"][0]["value"]
    for body in ([], {"integrationIDs": None}, {"integrationIDs": [None]}, {"integrationIDs": 3}):
        await refused(
            await api.post(f"/v1/coupon_reservations/{code}", json=body, headers=integration)
        )
