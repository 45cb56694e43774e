"""What rules write when an evaluation commits, on both databases: created codes (once per
rule and session), attribute updates, an event's points, event history, profile events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from patron.domain.clock import utcnow
from patron.domain.errors import NotFound
from patron.domain.promotions.applications import Caller
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.loyalty import Program
from patron.domain.promotions.profile_rules import ProfileChange
from patron.domain.promotions.session_request import parse_session_request
from patron.domain.promotions.session_steps import CustomEvent
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from patron.store.promotions.tables import coupons, referrals
from tests.conftest import make_workspace
from tests.domain.promotions.sessions_support import add_coupon
from tests.domain.promotions.test_session_service import Recorder

pytestmark = pytest.mark.anyio

ALWAYS = ["and", True]
CART = [{"sku": "sock", "quantity": 1, "price": 10}]


def rule(title: str, condition: list[Any], *effects: list[Any]) -> dict[str, Any]:
    return {"title": title, "condition": condition, "effects": list(effects)}


def on_event(kind: str) -> list[Any]:
    return ["and", ["=", [".", "Event", "Type"], kind]]


async def application(services: Services) -> tuple[Caller, str]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    return Caller(workspace.id, issued.application.id), workspace.name


async def campaign(services: Services, caller: Caller, *rules: dict[str, Any]) -> int:
    made = await services.campaigns.create(
        caller.workspace_id,
        CampaignRecord(0, caller.application_id, "Wired", features=("coupons", "referrals")),
    )
    ruleset = {"rules": list(rules), "bindings": []}
    await services.campaigns.save_ruleset(
        caller.workspace_id, caller.application_id, made.id, ruleset, activate=True
    )
    return made.id


async def shop(services: Services, *rules: dict[str, Any]) -> tuple[Caller, int]:
    caller, _name = await application(services)
    return caller, await campaign(services, caller, *rules)


async def update(
    services: Services, caller: Caller, session_id: str, seen: Recorder, **fields: Any
) -> None:
    dry = fields.pop("dry", False)
    request = parse_session_request({"customerSession": fields})
    await services.sessions.update(caller, session_id, request, render=seen, dry=dry)


async def rows(services: Services, table: Any) -> list[dict[str, Any]]:
    def work(unit: Any) -> list[dict[str, Any]]:
        query = select(table).order_by(table.c.id)
        return [dict(row) for row in unit.connection.execute(query).mappings()]

    return list(await services.store.read(work))


async def attributes(services: Services, caller: Caller, integration_id: str) -> dict[str, Any]:
    found = await services.profiles.get(
        workspace_id=caller.workspace_id, integration_id=integration_id
    )
    return found.attributes


async def test_a_sessions_codes_are_stored_once_and_kept(services: Services) -> None:
    caller, _ = await shop(
        services, rule("gift", ALWAYS, ["createCoupon"], ["createReferral", "bob"])
    )
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART, dry=True)
    assert seen.last.created_coupons == ()  # dry: nothing stored
    assert await rows(services, coupons) == []

    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART)
    (coupon,) = seen.last.created_coupons
    (referral,) = seen.last.created_referrals
    shown = {e["effectType"]: e["props"] for e in seen.last.effects}
    assert shown["couponCreated"] == {"value": coupon.value, "profileId": "alice"}
    assert shown["referralCreated"] == {"value": referral.code}
    assert coupon.terms.recipient_integration_id == "alice"
    assert (referral.advocate_integration_id, referral.friend_integration_id) == ("alice", "bob")

    await update(services, caller, "s1", seen, cartItems=CART * 2)  # re-evaluated: same codes
    assert [c.id for c in seen.last.created_coupons] == [coupon.id]
    await update(services, caller, "s1", seen, state="closed")
    await update(services, caller, "s1", seen, state="cancelled")
    assert [r["value"] for r in await rows(services, coupons)] == [coupon.value]  # kept
    assert [r["code"] for r in await rows(services, referrals)] == [referral.code]

    inventory = await services.profiles.inventory(
        caller=caller, integration_id="alice", profile=False, coupons=True, referrals=True,
        loyalty=False,
    )  # fmt: skip
    assert coupon.value in [held.value for held in inventory.holdings.coupons]

    await update(services, caller, "s2", seen, profileId="alice", cartItems=CART)
    (other,) = seen.last.created_coupons  # another session: another code
    assert other.value != coupon.value
    assert len(await rows(services, coupons)) == 2


async def test_a_taken_code_is_drawn_again(services: Services) -> None:
    caller, campaign_id = await shop(services, rule("gift", ALWAYS, ["createCoupon"]))
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART, dry=True)
    (wanted,) = [e["props"]["value"] for e in seen.last.effects]
    await add_coupon(services, caller.application_id, campaign_id, wanted)

    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART)
    (coupon,) = seen.last.created_coupons
    assert coupon.value != wanted
    assert seen.last.effects[0]["props"]["value"] == coupon.value


async def test_attribute_updates_are_written(services: Services) -> None:
    caller, _ = await shop(
        services,
        rule(
            "tier",
            ALWAYS,
            ["updateAttribute", "Profile.Attributes.tier", "gold"],
            ["updateAttribute", "Session.Attributes.seen", True],
        ),
    )
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART, dry=True)
    assert "tier" not in seen.last.profile.attributes
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART)
    assert (await attributes(services, caller, "alice"))["tier"] == "gold"
    assert seen.last.profile.attributes["tier"] == "gold"
    assert seen.last.session.data["attributes"] == {"seen": True}


async def test_event_history_and_segments_reach_the_rules(services: Services) -> None:
    caller, _ = await shop(
        services,
        rule(
            "regular",
            ["and", [">=", ["eventCount", "Order Completed", 30], 2]],
            ["setDiscount", "regular", 1],
        ),
    )
    now = utcnow()
    # An order older than the rule's 30 days: it never counts.
    long_ago = (now - timedelta(days=40)).isoformat()
    old = {"type": "track", "userId": "alice", "event": "Order Completed",
           "messageId": "order-old", "timestamp": long_ago}  # fmt: skip
    message, problems = build_message(MessageType.TRACK, old, received_at=now)
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=caller.workspace_id, messages=[message])
    for number in range(2):
        document = {"type": "track", "userId": "alice", "event": "Order Completed",
                    "messageId": f"order-{number}", "timestamp": now.isoformat()}  # fmt: skip
        message, problems = build_message(MessageType.TRACK, document, received_at=now)
        assert message is not None, problems
        seen = Recorder()
        await update(services, caller, f"s{number}", seen, profileId="alice", cartItems=CART)
        assert seen.types() == []  # one order fewer than the rule wants
        await services.tracking.ingest(workspace_id=caller.workspace_id, messages=[message])
    await update(services, caller, "s9", seen, profileId="alice", cartItems=CART)
    assert seen.types() == ["setDiscount"]


async def test_the_last_event_time_reaches_the_rules(services: Services) -> None:
    caller, _ = await shop(
        services,
        rule(
            "recent",
            ["and", [">", ["lastEventTime", "Order Completed"], "2020-01-01T00:00:00Z"]],
            ["setDiscount", "recent", 1],
        ),
    )
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART)
    assert seen.types() == []  # no order yet: the rule fails
    now = utcnow()
    document = {"type": "track", "userId": "alice", "event": "Order Completed",
                "messageId": "order-1", "timestamp": now.isoformat()}  # fmt: skip
    message, problems = build_message(MessageType.TRACK, document, received_at=now)
    assert message is not None, problems
    await services.tracking.ingest(workspace_id=caller.workspace_id, messages=[message])
    await update(services, caller, "s2", seen, profileId="alice", cartItems=CART)
    assert seen.types() == ["setDiscount"]


async def test_an_event_commits_its_points_codes_and_attributes(services: Services) -> None:
    caller, name = await application(services)
    program = await services.loyalty.create(
        workspace=name,
        program=Program(0, caller.workspace_id, "points", "Points",
                        subscribed_applications=(caller.application_id,)),
    )  # fmt: skip
    await campaign(
        services,
        caller,
        rule(
            "ordered",
            on_event("ordered"),
            ["addLoyaltyPoints", program.id, 5],
            ["createCoupon"],
            ["updateAttribute", "Profile.Attributes.ordered", True],
        ),
        rule("cart", ALWAYS, ["addLoyaltyPoints", program.id, 100]),
    )
    seen = Recorder()
    await update(services, caller, "s1", seen, profileId="alice", cartItems=CART)
    event = CustomEvent("ordered", {}, "alice")
    for _ in range(2):
        await services.sessions.track_event(caller, event, render=seen)
        assert {e["effectType"] for e in seen.last.effects} >= {"addLoyaltyPoints"}
    balances = await services.loyalty.balances(
        workspace_id=caller.workspace_id, program_id=program.id, integration_id="alice"
    )
    # 5 per event; the session's own 100 wait for its closing
    assert balances[""].current == 10
    assert len(await rows(services, coupons)) == 2  # one per event
    assert (await attributes(services, caller, "alice"))["ordered"] is True
    await services.sessions.track_event(caller, event, render=seen, dry=True)
    assert len(await rows(services, coupons)) == 2


async def test_profile_updates_evaluate_their_built_in_event(services: Services) -> None:
    caller, _ = await shop(
        services,
        rule("welcome", on_event("talon_profile_created"), ["setDiscount", "welcome", 1]),
        rule("changed", on_event("talon_profile_updated"), ["createCoupon"]),
    )
    change = ProfileChange("alice", {"tier": "silver"})
    preview = await services.sessions.update_profile(caller, change, dry=True)
    assert [e["effectType"] for e in preview.outcome.effects] == ["setDiscount"]
    assert preview.profile.attributes["tier"] == "silver"
    with pytest.raises(NotFound):  # dry: no profile stored
        await attributes(services, caller, "alice")

    created = await services.sessions.update_profile(caller, change)
    assert created.outcome.event.type == "talon_profile_created"
    assert (await attributes(services, caller, "alice"))["tier"] == "silver"
    updated = await services.sessions.update_profile(caller, ProfileChange("alice", {}))
    assert updated.outcome.event.type == "talon_profile_updated"
    (coupon,) = updated.outcome.created_coupons
    assert coupon.terms.recipient_integration_id == "alice"
    assert updated.latest_session is None

    def count(unit: Any) -> int:
        return int(unit.customer_event_count(caller.workspace_id, created.profile.profile.id,
                                             "talon_profile_updated", None))  # fmt: skip

    assert await services.store.read(count) == 1
