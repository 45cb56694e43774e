"""Rules on profile updates and events, codes rules create, attribute updates and event
history, with the official SDK (``talon-one-python-sdk`` 9.0.0) against ``patron serve``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import talon_one

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.services import Services
from tests.surfaces.talon_one.integration.test_sessions import (
    session_request,
    types,
    workspace_id,
)
from tests.surfaces.talon_one.support import TalonShop, server, shop

pytestmark = [pytest.mark.server, pytest.mark.anyio]
__all__ = ["server", "shop"]  # fixtures

CONTENT = ["customerProfile", "triggeredCampaigns", "ruleFailureReasons", "event"]


def rule(title: str, condition: list[Any], *effects: list[Any]) -> dict[str, Any]:
    return {"title": title, "condition": condition, "effects": list(effects)}


def on_event(kind: str) -> list[Any]:
    return ["and", ["=", [".", "Event", "Type"], kind]]


RULES = [
    rule(
        "welcome",
        on_event("talon_profile_created"),
        ["createCoupon"],
        ["updateAttribute", "Profile.Attributes.welcomed", True],
    ),
    rule("ordered", on_event("ordered"), ["createReferral", "bob"]),
    rule("regular", ["and", [">=", ["eventCount", "ordered", 30], 1]], ["setDiscount", "reg", 1]),
]


async def welcome_campaign(services: Services, shop: TalonShop) -> None:
    workspace = await workspace_id(services, shop)
    record = CampaignRecord(0, shop.application_id, "Welcome", features=("coupons", "referrals"))
    made = await services.campaigns.create(workspace, record)
    ruleset = {"rules": RULES, "bindings": []}
    await services.campaigns.save_ruleset(
        workspace, shop.application_id, made.id, ruleset, activate=True
    )


def profile_request(**fields: Any) -> talon_one.CustomerProfileIntegrationRequestV2:
    return talon_one.CustomerProfileIntegrationRequestV2(response_content=CONTENT, **fields)


async def test_rules_run_on_profiles_and_events(shop: TalonShop, services: Services) -> None:
    await welcome_campaign(services, shop)
    api = shop.integration

    preview = api.update_customer_profile_v2(
        "ada", profile_request(attributes={"tier": "gold"}), run_rule_engine=True, dry=True
    )
    assert types(preview) == ["couponCreated", "updateAttribute"]
    assert preview.created_coupons == []  # dry: nothing stored

    made = api.update_customer_profile_v2(
        "ada", profile_request(attributes={"tier": "gold"}), run_rule_engine=True
    )
    assert types(made) == ["couponCreated", "updateAttribute"]
    (coupon,) = made.created_coupons
    assert made.effects[0].props["value"] == coupon.value
    assert coupon.recipient_integration_id == "ada"
    assert made.event.type == "talon_profile_created"
    assert [c.name for c in made.triggered_campaigns] == ["Welcome"]
    assert {r.rule_name for r in made.rule_failure_reasons} == {"ordered", "regular"}
    assert made.customer_profile.attributes == {"tier": "gold", "welcomed": True}

    # Without runRuleEngine: no evaluation; an update is no creation.
    plain = api.update_customer_profile_v2("ada", profile_request(attributes={"tier": "x"}))
    assert (plain.effects, plain.created_coupons) == ([], [])
    again = api.update_customer_profile_v2("ada", profile_request(), run_rule_engine=True)
    assert (types(again), again.event.type) == ([], "talon_profile_updated")

    # An event's rules commit at once: the referral is there; the event counts in history.
    event = talon_one.IntegrationEventV2Request(profile_id="ada", type="ordered", attributes={})
    tracked = api.track_event_v2(event)
    (referral,) = tracked.created_referrals
    assert (referral.advocate_profile_integration_id, referral.friend_profile_integration_id) == (
        "ada",
        "bob",
    )
    assert tracked.effects[0].props["value"] == referral.code
    session = api.update_customer_session_v2(
        "s1", session_request(["customerSession"], profile_id="ada")
    )
    assert types(session) == ["setDiscount"]

    inventory = api.get_customer_inventory("ada", coupons=True, referrals=True)
    assert [c.value for c in inventory.coupons] == [coupon.value]
    assert [r.code for r in inventory.referrals] == [referral.code]

    # API v1 always evaluates, and shows the profile's latest session.
    async with httpx.AsyncClient() as client:
        v1 = await client.put(
            f"{shop.url}/v1/customer_profiles/ada",
            json={"attributes": {"tier": "platinum"}},
            headers=shop.integration_headers(),
        )
    assert v1.status_code == 200, v1.text
    state = v1.json()
    assert state["session"]["integrationId"] == "s1"
    assert state["event"]["type"] == "talon_profile_updated"
    assert [effect[3][:2] for effect in state["event"]["effects"]] == [["setDiscount", "reg"]]
    assert state["profile"]["attributes"]["tier"] == "platinum"
