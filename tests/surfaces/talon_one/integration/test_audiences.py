"""Audiences through the official SDK: made by Talon's API, seen by the Voucherify API
(and the other way), members changed in one all-or-nothing request."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import talon_one
import voucherify
from talon_one.rest import ApiException

from tests.patron_server import Server, patron_cli
from tests.surfaces.talon_one.support import (
    TalonShop,
    open_shop,
    raw_talon_error,
    server,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server"]  # fixtures


@pytest.fixture
def both(database_url: str, server: Server) -> tuple[TalonShop, voucherify.ApiClient, int]:
    """One workspace seen through both APIs: a Talon application, the Voucherify keys,
    and the workspace's installation number (Talon's account id)."""
    created = json.loads(patron_cli(database_url, "workspace", "create", "store", "--json"))
    credentials = created["credentials"]
    app_id, token = credentials["voucherify_app_id"], credentials["voucherify_app_token"]
    configuration = voucherify.Configuration(
        host=server.url, api_key={"X-App-Id": app_id, "X-App-Token": token}
    )
    shop = open_shop(database_url, server, workspace="store")
    return shop, voucherify.ApiClient(configuration), created["igrp"]


def action(kind: str, profile: str, audience: int) -> talon_one.CustomerProfileAudienceRequestItem:
    return talon_one.CustomerProfileAudienceRequestItem(
        action=kind, profile_integration_id=profile, audience_id=audience
    )


def change(shop: TalonShop, *items: talon_one.CustomerProfileAudienceRequestItem) -> None:
    body = talon_one.CustomerProfileAudienceRequest(data=list(items))
    assert shop.integration.update_customer_profile_audiences(body) is None  # 204


def segment_names(client: voucherify.ApiClient, customer: str) -> list[str]:
    found = voucherify.CustomersApi(client).list_customer_segments(customer)
    return sorted(s.name for s in found.data or [])


def test_an_audience_is_a_static_segment_of_both_apis(
    both: tuple[TalonShop, voucherify.ApiClient, int],
) -> None:
    shop, client, account = both
    segments = voucherify.SegmentsApi(client)
    vip = shop.integration.create_audience_v2(
        talon_one.NewAudience(name="VIP", integration="segment", integration_id="aud-1")
    )
    assert (vip.name, vip.integration, vip.integration_id, vip.created_in3rd_party) == (
        "VIP",
        "segment",
        "aud-1",
        True,
    )
    assert vip.account_id == account

    change(shop, action("add", "alice", vip.id), action("add", "bob", vip.id))
    change(shop, action("delete", "bob", vip.id))
    assert segment_names(client, "alice") == ["VIP"]  # alice was made by the add
    assert segment_names(client, "bob") == []
    headers = {
        "X-App-Id": client.configuration.api_key["X-App-Id"],
        "X-App-Token": client.configuration.api_key["X-App-Token"],
    }
    listed_segments = httpx.get(f"{shop.url}/v1/segments", headers=headers).json()["data"]
    [seen] = [s for s in listed_segments if s["name"] == "VIP"]
    assert (seen["type"], segments.get_segment(seen["id"]).type) == ("static", "static")

    # A static segment made through Voucherify is an audience too, once listed.
    picked = segments.create_segment(
        voucherify.SegmentsCreateRequestBody(name="Picked", type="static", customers=["alice"])
    )
    listed = shop.management.get_audiences()
    assert [(a.name, a.account_id) for a in listed.data] == [
        ("VIP", vip.account_id),
        ("Picked", vip.account_id),
    ]
    assert listed.total_result_size == 2
    picked_id = listed.data[1].id
    change(shop, action("add", "bob", picked_id))
    assert segment_names(client, "bob") == ["Picked"]
    renamed = shop.integration.update_audience_v2(
        picked_id, talon_one.UpdateAudience(name="Chosen")
    )
    assert (renamed.id, renamed.name) == (picked_id, "Chosen")
    assert segments.get_segment(picked.id).name == "Chosen"

    page = shop.management.get_audiences(page_size=1, skip=1, sort="-id")
    assert ([a.id for a in page.data], page.has_more) == ([vip.id], False)

    shop.integration.delete_audience_memberships_v2(picked_id)
    assert segment_names(client, "bob") == []
    shop.integration.delete_audience_v2(vip.id)
    with pytest.raises(voucherify.exceptions.NotFoundException):
        segments.get_segment(seen["id"])
    assert [a.id for a in shop.management.get_audiences().data] == [picked_id]
    with pytest.raises(ApiException) as gone:
        shop.integration.update_audience_v2(vip.id, talon_one.UpdateAudience(name="Back"))
    talon_error(gone.value, 404)


def test_membership_changes_are_all_or_nothing(
    both: tuple[TalonShop, voucherify.ApiClient, int],
) -> None:
    shop, client, _ = both
    vip = shop.integration.create_audience_v2(talon_one.NewAudience(name="VIP"))
    with pytest.raises(ApiException) as unknown:
        change(shop, action("add", "carol", vip.id), action("add", "carol", vip.id + 99))
    talon_error(unknown.value, 404)
    with pytest.raises(voucherify.exceptions.NotFoundException):
        voucherify.CustomersApi(client).get_customer("carol")  # not made either

    url = f"{shop.url}/v2/customer_audiences"
    bad: list[tuple[Any, str]] = [
        (
            {"data": [{"action": "move", "profileIntegrationId": "c", "audienceId": vip.id}]},
            "/data/0/action",
        ),
        (
            {"data": [{"action": "add", "profileIntegrationId": "c", "audienceId": "1"}]},
            "/data/0/audienceId",
        ),
        (
            {"data": [{"action": "add", "profileIntegrationId": "c", "audienceId": 1}] * 1001},
            "/data",
        ),
    ]
    for body, pointer in bad:
        response = httpx.post(url, json=body, headers=shop.integration_headers())
        error = raw_talon_error(response, 400)
        assert [item["source"]["pointer"] for item in error["errors"]] == [pointer]
    response = httpx.post(
        f"{shop.url}/v2/audiences", json={"name": ""}, headers=shop.integration_headers()
    )
    raw_talon_error(response, 400)
    response = httpx.get(f"{shop.url}/v1/audiences?sort=colour", headers=shop.management_headers())
    assert raw_talon_error(response, 400)["errors"][0]["source"] == {"parameter": "sort"}
