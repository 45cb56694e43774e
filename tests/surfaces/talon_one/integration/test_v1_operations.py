"""The Integration API's v1 operations through npm ``talon_one@4.3.0``, unmodified.

``update_customer_session``, ``update_customer_profile`` and ``track_event``
answer ``IntegrationState{session, profile, event}``, with each effect in
``event.effects`` a 4-tuple ``[campaignId, rulesetId, ruleIndex, [effect,
arg…]]`` and the session's discounts by name. Campaigns come from ``patron
promotions apply``, as a shop would set them up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.patron_server import patron_cli
from tests.surfaces.talon_one.node_sdk import run_script
from tests.surfaces.talon_one.support import TalonShop, server, shop

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures

SETUP = """
applications:
  - name: Shop
    currency: EUR
    timezone: Europe/Berlin
    campaigns:
      - name: Free money
        rules:
          - title: Free money for all!
            condition: ["and", true]
            effects: [["setDiscount", "Free money", 45.55]]
"""


def effects(state: dict[str, Any]) -> list[list[Any]]:
    """The effect calls of a v1 event, ``[name, arg…]``, in order."""
    found = state["event"]["effects"]
    assert all(len(effect) == 4 for effect in found), found
    return [effect[3] for effect in found]


def test_the_v1_operations_of_the_javascript_sdk(shop: TalonShop, tmp_path: Path) -> None:
    setup = tmp_path / "promotions.yaml"
    setup.write_text(SETUP)
    patron_cli(shop.database_url, "promotions", "apply", str(setup), "--workspace", shop.workspace)
    out = run_script(
        shop.url,
        shop.integration_key,
        """
        const cart = [{name: "Shoe", sku: "SKU-1", quantity: 2, price: 50}];
        out.created = await integration.updateCustomerSession(
          "session-1", {profileId: "ann", coupon: "NOPE-1", cartItems: cart, state: "open"});
        out.dry = await integration.updateCustomerSession(
          "session-2", {profileId: "ann", cartItems: cart}, {dry: true});
        out.profile = await integration.updateCustomerProfile("ann", {attributes: {Name: "Ann"}});
        out.event = await integration.trackEvent(
          {type: "viewed_page", attributes: {}, sessionId: "session-1", profileId: "ann"});
        out.closed = await integration.updateCustomerSession(
          "session-1", {profileId: "ann", state: "closed"});
        """,
    )
    assert "error" not in out, out
    created = out["created"]
    assert created["session"]["integrationId"] == "session-1"
    assert created["session"]["state"] == "open"
    assert created["session"]["total"] == 100
    assert created["session"]["discounts"] == {"Free money": 45.55}
    assert created["profile"]["integrationId"] == "ann"
    assert created["event"]["type"] == "talon_session_created"
    calls = effects(created)
    assert ["setDiscount", "Free money", 45.55] in calls
    assert any(call[0] == "rejectCoupon" and call[1] == "NOPE-1" for call in calls), calls

    assert effects(out["dry"])[0][:2] == ["setDiscount", "Free money"]
    assert out["profile"]["profile"]["attributes"]["Name"] == "Ann"
    assert out["event"]["event"]["type"] == "viewed_page"
    assert out["closed"]["session"]["state"] == "closed"
    assert out["closed"]["profile"]["closedSessions"] == 1

    # The dry session was not stored; the closed one was, once.
    again = run_script(
        shop.url,
        shop.integration_key,
        """out.state = await integration.updateCustomerSession("session-2", {profileId: "ann"});""",
    )
    assert again["state"]["event"]["type"] == "talon_session_created"


def test_errors_reach_the_javascript_sdk_as_talons(shop: TalonShop) -> None:
    out = run_script(
        shop.url,
        shop.integration_key,
        """out.state = await integration.updateCustomerSession(
             "s", {cartItems: [{name: "x", sku: "", quantity: 0, price: 1}]});""",
    )
    assert out["status"] == 400
    assert "StatusCode" in out["body"]
    wrong = run_script(
        shop.url,
        "not-a-key",
        'out.state = await integration.trackEvent({type: "t", attributes: {}, sessionId: "s"});',
    )
    assert wrong["status"] == 401
