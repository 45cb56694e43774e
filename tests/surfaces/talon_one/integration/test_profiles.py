"""``PUT /v2/customer_profiles…`` and v1 with the official SDK: a Talon profile is the
Patron customer with that external id, seen alike by the CLI, Voucherify and tracking."""

from __future__ import annotations

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.surfaces.talon_one.integration.rows import add_audience
from tests.surfaces.talon_one.integration.support import Surfaces, surfaces
from tests.surfaces.talon_one.support import raw_talon_error, server, talon_error

pytestmark = pytest.mark.server
__all__ = ["server", "surfaces"]  # fixtures


def test_one_customer_on_every_surface(surfaces: Surfaces, database_url: str) -> None:
    shop = surfaces.talon
    vip = add_audience(database_url, "shop", "VIP")
    body = talon_one.CustomerProfileIntegrationRequestV2(
        attributes={"email": "ada@example.com", "tier": "gold"},
        audiences_changes=talon_one.ProfileAudiencesChanges(adds=[vip], deletes=[]),
        response_content=["customerProfile"],
    )
    answer = shop.integration.update_customer_profile_v2("ada", body)
    assert (answer.effects, answer.created_coupons, answer.created_referrals) == ([], [], [])
    profile = answer.customer_profile
    assert profile.integration_id == "ada"
    assert profile.attributes == {"email": "ada@example.com", "tier": "gold"}
    assert (profile.closed_sessions, profile.total_sales) == (0, 0)
    assert [(a.id, a.name) for a in profile.audience_memberships] == [(vip, "VIP")]

    cli = shop.cli("customers", "get", "ada")
    assert (cli["email"], cli["attributes"], cli["external_id"]) == (
        "ada@example.com",
        {"tier": "gold"},
        "ada",
    )
    seen = surfaces.customers.get_customer("ada")
    assert (seen.id, seen.email, seen.metadata) == (cli["id"], "ada@example.com", {"tier": "gold"})

    # The tracking API's identify changes what a rule reads of the profile.
    surfaces.identify("ada", plan="pro", tier="platinum")
    again = shop.integration.update_customer_profile_v2(
        "ada",
        talon_one.CustomerProfileIntegrationRequestV2(response_content=["customerProfile"]),
        run_rule_engine=True,
    )
    assert again.effects == []
    assert again.customer_profile.id == profile.id
    assert again.customer_profile.attributes == {
        "email": "ada@example.com",
        "tier": "platinum",
        "plan": "pro",
    }
    # Without responseContent: the minimal answer.
    plain = shop.integration.update_customer_profile_v2(
        "ada", talon_one.CustomerProfileIntegrationRequestV2(attributes={"tier": "x"})
    )
    assert plain.customer_profile is None
    assert surfaces.customers.get_customer("ada").metadata == {"tier": "x", "plan": "pro"}


def test_bulk_and_v1_updates(surfaces: Surfaces) -> None:
    shop = surfaces.talon
    items = [
        talon_one.MultipleCustomerProfileIntegrationRequestItem(
            integration_id=f"bulk-{n}", attributes={"n": n}
        )
        for n in range(3)
    ]
    body = talon_one.MultipleCustomerProfileIntegrationRequest(customer_profiles=items)
    answer = shop.integration.update_customer_profiles_v2(body)
    states = answer.integration_states
    assert [s.customer_profile.integration_id for s in states] == ["bulk-0", "bulk-1", "bulk-2"]
    assert [s.customer_profile.attributes for s in states] == [{"n": 0}, {"n": 1}, {"n": 2}]
    silent = httpx.put(
        f"{shop.url}/v2/customer_profiles?silent=yes",
        json={"customerProfiles": [{"integrationId": "bulk-3", "attributes": {"n": 3}}]},
        headers=shop.integration_headers(),
    )
    assert (silent.status_code, silent.content) == (204, b"")
    assert shop.cli("customers", "get", "bulk-3")["attributes"] == {"n": 3}

    v1 = httpx.put(
        f"{shop.url}/v1/customer_profiles/bulk-0?dry=False",
        json={"attributes": {"n": 10}},
        headers=shop.integration_headers(),
    )
    assert v1.status_code == 200, v1.text
    state = v1.json()
    assert state["profile"]["integrationId"] == "bulk-0"
    assert state["profile"]["attributes"] == {"n": 10}
    assert (state["event"]["effects"], state["event"]["ledgerEntries"]) == ([], [])
    assert state["session"]["profileId"] == "bulk-0"


def test_bad_profile_updates_are_refused_and_change_nothing(surfaces: Surfaces) -> None:
    shop = surfaces.talon
    with pytest.raises(ApiException) as error:
        shop.integration.update_customer_profile_v2(
            "zed",
            talon_one.CustomerProfileIntegrationRequestV2(
                audiences_changes=talon_one.ProfileAudiencesChanges(adds=[424242], deletes=[])
            ),
        )
    body = talon_error(error.value, 400)
    assert body["errors"][0]["source"] == {"pointer": "/audiencesChanges/adds/0"}
    url = f"{shop.url}/v2/customer_profiles/zed"
    for query, payload, pointer in (
        ("", {"attributes": "gold"}, {"pointer": "/attributes"}),
        ("?dry=true", {}, {"parameter": "dry"}),
        ("", {"responseContent": ["everything"]}, {"pointer": "/responseContent"}),
    ):
        response = httpx.put(url + query, json=payload, headers=shop.integration_headers())
        assert raw_talon_error(response, 400)["errors"][0]["source"] == pointer
    too_many = [{"integrationId": f"p{n}"} for n in range(1001)]
    response = httpx.put(
        f"{shop.url}/v2/customer_profiles",
        json={"customerProfiles": too_many},
        headers=shop.integration_headers(),
    )
    raw_talon_error(response, 400)
    unauthorised = httpx.put(url, json={}, headers={"Authorization": "ApiKey-v1 wrong"})
    raw_talon_error(unauthorised, 401)
    customers = surfaces.customers.list_customers()
    assert customers.total == 0
