"""The acceptance story of the Talon.One Integration API: a shop sets its campaigns up as
a shop would (the Management API — the legacy create-campaign and create-ruleset
bodies over raw HTTP, the current SDK elsewhere — and the CLI), then runs its
customers' sessions with the official SDK (``talon-one-python-sdk`` 9.0.0,
unmodified) against ``patron serve``. Every answer is read as the SDK's typed
models, every effect's props as the model the SDK's README names for it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
import talon_one
from sqlalchemy import create_engine, text
from talon_one.rest import ApiException

from patron.store.promotions.sessions import promotion_lock_number
from tests.patron_server import Server, patron_cli
from tests.surfaces.talon_one.support import TalonShop, open_shop, server, talon_error

pytestmark = pytest.mark.server
__all__ = ["server"]  # fixtures

CONTENT = ["customerSession", "customerProfile", "coupons", "ruleFailureReasons", "event"]
BUSY = "Too many requests are updating this session at the same time"


class Story:
    """A shop, its tracking write key, and the steps a shop takes."""

    def __init__(self, shop: TalonShop, write_key: str) -> None:
        self.shop = shop
        self.write_key = write_key
        self.api = shop.integration
        self.management = shop.management

    # -- setting up, as a shop does --------------------------------------------------------

    def campaign(self, name: str, features: list[str], rules: list[dict[str, Any]]) -> int:
        """The legacy SDK's ``create_campaign`` and ``create_ruleset`` bodies, sent raw."""
        shop = self.shop
        url = f"{shop.url}/v1/applications/{shop.application_id}/campaigns"
        body = {
            "name": name,
            "description": "",
            "state": "enabled",
            "tags": [],
            "features": features,
            "limits": [],
            "couponSettings": {"validCharacters": list("ABCDEFGH"), "couponPattern": "C-####"},
            "referralSettings": {"validCharacters": list("XYZ2"), "couponPattern": "REF-######"},
            "attributes": {},
        }
        created = httpx.post(url, json=body, headers=shop.management_headers())
        assert created.status_code == 201, created.text
        campaign_id: int = created.json()["id"]
        ruleset = {"rules": rules, "bindings": [], "rbVersion": "v2", "activate": True}
        saved = httpx.post(
            f"{url}/{campaign_id}/rulesets", json=ruleset, headers=shop.management_headers()
        )
        assert saved.status_code == 201, saved.text
        read = self.management.get_campaign(shop.application_id, campaign_id)
        assert read.active_ruleset_id == saved.json()["id"]
        assert read.frontend_state == "running"
        return campaign_id

    def coupons(self, campaign_id: int) -> dict[str, talon_one.Coupon]:
        """The campaign's coupons by code, read back through the Management API."""
        page = self.management.get_coupons_without_total_count(
            self.shop.application_id, campaign_id
        )
        return {coupon.value: coupon for coupon in page.data}

    def cli(self, *args: str) -> Any:
        return self.shop.cli(*args)

    # -- the shop's sessions ---------------------------------------------------------------

    def session(
        self, session_id: str, content: list[str] | None = None, dry: bool = False, **fields: Any
    ) -> talon_one.IntegrationStateV2:
        request = talon_one.IntegrationRequest(
            customer_session=talon_one.NewCustomerSessionV2(**fields),
            response_content=content or CONTENT,
        )
        if dry:
            return self.api.update_customer_session_v2(session_id, request, dry=True)
        return self.api.update_customer_session_v2(session_id, request)

    def props(self, effect: talon_one.Effect, model: type) -> Any:
        return self.api.api_client.deserialize_model(effect.props, model)

    def identify(self, user_id: str, **traits: Any) -> None:
        response = httpx.post(
            f"{self.shop.url}/v1/identify",
            json={"userId": user_id, "traits": traits},
            auth=(self.write_key, ""),
        )
        assert response.status_code == 200, response.text

    def events(self, customer: str) -> list[str]:
        """The customer's event names, oldest first, as ``patron events list`` prints them."""
        listed = self.cli("events", "list", "--customer", customer)
        return [event["name"] or event["type"] for event in reversed(listed)]

    def unknown(self, customer: str) -> None:
        """``patron customers get`` does not know them."""
        with pytest.raises(AssertionError, match=f"no customer '{customer}'"):
            self.cli("customers", "get", customer)


def kinds(state: Any) -> list[str]:
    return [effect.effect_type for effect in state.effects]


def cart(price: float = 30.0, quantity: int = 2) -> list[talon_one.CartItem]:
    return [talon_one.CartItem(name="Socks", sku="sock", quantity=quantity, price=price)]


@pytest.fixture
def story(database_url: str, server: Server) -> Story:
    made = json.loads(patron_cli(database_url, "workspace", "create", "shop", "--json"))
    shop = open_shop(database_url, server, currency="EUR", timezone="Europe/Berlin")
    return Story(shop, made["credentials"]["tracking_write_key"])


def is_postgres(story: Story) -> bool:
    return story.shop.database_url.startswith("postgresql")


# --------------------------------------------------------------------------------------------
# 1, 4, 6, 7, 9: coupons, reservations, dry runs, concurrency, deletion
# --------------------------------------------------------------------------------------------

TEN_PERCENT_WITH_COUPON = {
    "title": "10% with a coupon",
    "condition": ["and", ["couponValid"]],
    "effects": [["setDiscount", "10% off", ["*", [".", "Session", "Total"], ["/", 10, 100]]]],
}


def test_coupons_reservations_dry_runs_concurrency_and_deletion(story: Story) -> None:
    app = story.shop.application_id
    campaign_id = story.campaign("Spring", ["coupons"], [TEN_PERCENT_WITH_COUPON])
    made = story.cli(
        "coupons", "create", "--application", str(app), "--campaign", str(campaign_id),
        "--count", "1", "--pattern", "SPRING-####", "--usage-limit", "1",
    )  # fmt: skip
    assert made["created"] == 1
    [code] = story.coupons(campaign_id)

    coupon_is_used_once_and_rolled_back(story, campaign_id, code)
    dry_runs_change_nothing(story, campaign_id, code)
    reservations_gate_a_mandatory_coupon(story, campaign_id)
    concurrent_updates_never_redeem_twice(story, campaign_id)
    deleting_a_customer_keeps_the_counters(story, campaign_id, code)


def coupon_is_used_once_and_rolled_back(story: Story, campaign_id: int, code: str) -> None:
    opened = story.session("a-1", profile_id="ann", coupon_codes=[code], cart_items=cart())
    assert kinds(opened) == ["acceptCoupon", "setDiscount"]
    accepted = story.props(opened.effects[0], talon_one.AcceptCouponEffectProps)
    assert accepted.value == code
    discount = story.props(opened.effects[1], talon_one.SetDiscountEffectProps)
    assert (discount.name, discount.value) == ("10% off", 6)
    coupon = story.coupons(campaign_id)[code]
    assert {e.triggered_by_coupon for e in opened.effects} == {coupon.id}
    assert {(e.campaign_id, e.rule_name) for e in opened.effects} == {
        (campaign_id, "10% with a coupon")
    }
    assert opened.customer_session.total == 60
    assert [c.value for c in opened.coupons] == [code]
    assert opened.event.type == "talon_session_created"

    closed = story.session("a-1", state="closed")
    assert kinds(closed) == ["acceptCoupon", "setDiscount"]
    assert closed.customer_session.state == "closed"
    assert closed.customer_profile.closed_sessions == 1
    assert closed.customer_profile.total_sales == 60
    used = story.coupons(campaign_id)[code]
    assert used.usage_counter == 1

    refused = story.session(
        "b-1", profile_id="bob", coupon_codes=[code, "NOPE-0000"], cart_items=cart()
    )
    reasons = {
        (p.value, p.rejection_reason, e.campaign_id, e.ruleset_id, e.rule_index)
        for e in refused.effects
        for p in [story.props(e, talon_one.RejectCouponEffectProps)]
    }
    assert kinds(refused) == ["rejectCoupon", "rejectCoupon"]
    assert (code, "CouponLimitReached") in {r[:2] for r in reasons}
    assert ("NOPE-0000", "CouponNotFound", -1, -1, -1) in reasons
    assert refused.customer_session.coupon_codes == [code, "NOPE-0000"]

    cancelled = story.session("a-1", state="cancelled")
    assert sorted(kinds(cancelled)) == ["rollbackCoupon", "rollbackDiscount"]
    by_kind = {effect.effect_type: effect for effect in cancelled.effects}
    assert story.props(by_kind["rollbackCoupon"], talon_one.RollbackCouponEffectProps).value == code
    rollback = story.props(by_kind["rollbackDiscount"], talon_one.RollbackDiscountEffectProps)
    assert (rollback.name, rollback.value) == ("10% off", 6)
    assert cancelled.event.type == "talon_session_revoked"
    assert story.coupons(campaign_id)[code].usage_counter == 0

    # An open session that is cancelled committed nothing and rolls nothing back.
    story.session("a-3", profile_id="ann", coupon_codes=[code])
    dropped = story.session("a-3", state="cancelled")
    assert (dropped.effects, dropped.event.type) == ([], "talon_session_cancelled")
    assert story.coupons(campaign_id)[code].usage_counter == 0

    # Bob's next update evaluates the code again: usable now, and his to redeem.
    retried = story.session("b-1", coupon_codes=[code])
    assert kinds(retried) == ["acceptCoupon", "setDiscount"]
    bobs = story.session("b-1", state="closed")
    assert kinds(bobs) == ["acceptCoupon", "setDiscount"]
    assert story.coupons(campaign_id)[code].usage_counter == 1


def dry_runs_change_nothing(story: Story, campaign_id: int, code: str) -> None:
    preview = story.session(
        "c-dry", dry=True, profile_id="cat", coupon_codes=[code], cart_items=cart(), state="closed"
    )
    [rejected] = preview.effects  # used up by bob
    assert story.props(rejected, talon_one.RejectCouponEffectProps).rejection_reason == (
        "CouponLimitReached"
    )
    other = story.cli(
        "coupons", "create", "--application", str(story.shop.application_id),
        "--campaign", str(campaign_id), "--count", "1", "--pattern", "DRY-####",
    )  # fmt: skip
    assert other["created"] == 1
    [fresh] = [c for c in story.coupons(campaign_id) if c.startswith("DRY-")]
    closing = story.session(
        "c-dry", dry=True, profile_id="cat", coupon_codes=[fresh], cart_items=cart(), state="closed"
    )
    assert kinds(closing) == ["acceptCoupon", "setDiscount"]
    assert closing.customer_session.state == "closed"
    assert story.coupons(campaign_id)[fresh].usage_counter == 0
    event = story.api.track_event_v2(
        talon_one.IntegrationEventV2Request(type="viewed", profile_id="cat"), dry=True
    )
    assert event.effects == []
    # Nothing was stored: no profile, no events, no session (a real update creates it).
    story.unknown("cat")
    created = story.session("c-dry", profile_id="cat", cart_items=cart())
    assert created.event.type == "talon_session_created"
    assert story.events("cat") == ["talon_session_created"]
    # A dry update of a stored session leaves it as it was.
    again = story.session("c-dry", dry=True, coupon_codes=[fresh], state="closed")
    assert kinds(again) == ["acceptCoupon", "setDiscount"]
    story.api.track_event_v2(
        talon_one.IntegrationEventV2Request(type="viewed", profile_id="cat"), dry=True
    )
    kept = story.session("c-dry")
    assert (kept.customer_session.state, kept.customer_session.coupon_codes) == ("open", [])
    assert kept.effects == []
    assert kept.customer_profile.closed_sessions == 0
    assert story.events("cat") == ["talon_session_created", "talon_session_updated"]
    assert story.coupons(campaign_id)[fresh].usage_counter == 0


def reservations_gate_a_mandatory_coupon(story: Story, campaign_id: int) -> None:
    app = story.shop.application_id
    made = story.management.create_coupons(
        app,
        campaign_id,
        talon_one.NewCoupons(
            usage_limit=0,
            number_of_coupons=1,
            coupon_pattern="VIP-ONLY",
            is_reservation_mandatory=True,
        ),
        silent="no",
    )
    assert [c.value for c in made.data] == ["VIP-ONLY"]
    assert made.data[0].is_reservation_mandatory is True

    def attempt() -> talon_one.IntegrationStateV2:
        return story.session("d-1", profile_id="dora", coupon_codes=["VIP-ONLY"], cart_items=cart())

    [refused] = attempt().effects
    assert story.props(refused, talon_one.RejectCouponEffectProps).rejection_reason == (
        "CouponReservationRequired"
    )
    reserved = story.api.create_coupon_reservation(
        "VIP-ONLY", talon_one.CouponReservations(integration_i_ds=["dora"])
    )
    assert reserved.value == "VIP-ONLY"
    assert kinds(attempt()) == ["acceptCoupon", "setDiscount"]
    holders = story.api.get_reserved_customers("VIP-ONLY")
    assert [p.integration_id for p in holders.data] == ["dora"]
    assert holders.total_result_size == 1
    inventory = story.api.get_customer_inventory("dora", coupons=True)
    assert [c.value for c in inventory.coupons] == ["VIP-ONLY"]
    story.api.delete_coupon_reservation(
        "VIP-ONLY", talon_one.CouponReservations(integration_i_ds=["dora"])
    )
    [again] = attempt().effects
    assert story.props(again, talon_one.RejectCouponEffectProps).rejection_reason == (
        "CouponReservationRequired"
    )
    assert story.api.get_reserved_customers("VIP-ONLY").data == []


def concurrent_updates_never_redeem_twice(story: Story, campaign_id: int) -> None:
    story.management.create_coupons(
        story.shop.application_id,
        campaign_id,
        talon_one.NewCoupons(usage_limit=5, number_of_coupons=1, coupon_pattern="MANY-USES"),
        silent="no",
    )
    story.session("e-1", profile_id="eve", coupon_codes=["MANY-USES"], cart_items=cart())
    outcomes: list[int | str] = []
    start = threading.Barrier(2)

    def close() -> None:
        start.wait()
        try:
            state = story.session("e-1", state="closed")
            outcomes.append(200 if state.customer_session.state == "closed" else "open")
        except ApiException as error:
            outcomes.append(
                error.status if error.status != 409 else json.loads(error.body)["message"]
            )

    threads = [threading.Thread(target=close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert 200 in outcomes, outcomes
    assert set(outcomes) <= {200, BUSY}, outcomes
    assert story.coupons(campaign_id)["MANY-USES"].usage_counter == 1
    if is_postgres(story):
        a_session_being_updated_elsewhere_is_busy(story)


def a_session_being_updated_elsewhere_is_busy(story: Story) -> None:
    """Another process holds the session's lock: 409 with Talon's message; then it goes."""
    engine = create_engine(story.shop.database_url)
    try:
        with engine.connect() as other, other.begin():
            key = f"session:{story.shop.application_id}:e-2"
            other.execute(
                text("SELECT pg_advisory_xact_lock(:n)"), {"n": promotion_lock_number(key)}
            )
            with pytest.raises(ApiException) as refused:
                story.session("e-2", profile_id="eve", coupon_codes=["MANY-USES"])
            assert talon_error(refused.value, 409)["message"] == BUSY
        done = story.session("e-2", profile_id="eve", coupon_codes=["MANY-USES"], state="closed")
        assert kinds(done) == ["acceptCoupon", "setDiscount"]
    finally:
        engine.dispose()


def deleting_a_customer_keeps_the_counters(story: Story, campaign_id: int, code: str) -> None:
    counters = {c.value: c.usage_counter for c in story.coupons(campaign_id).values()}
    assert story.api.get_customer_inventory("ann", profile=True).profile.closed_sessions == 0
    story.api.delete_customer_data("ann")
    with pytest.raises(ApiException) as gone:
        story.api.get_customer_inventory("ann", profile=True)
    talon_error(gone.value, 404)
    fresh = story.session("a-2", profile_id="ann", cart_items=cart())
    assert fresh.event.type == "talon_session_created"
    assert fresh.customer_profile.closed_sessions == 0
    assert fresh.customer_profile.total_sales == 0
    assert story.events("ann") == ["talon_session_created"]
    assert {c.value: c.usage_counter for c in story.coupons(campaign_id).values()} == counters


# --------------------------------------------------------------------------------------------
# 2, 3: loyalty and referrals
# --------------------------------------------------------------------------------------------


def test_loyalty_points_and_referrals(story: Story) -> None:
    app = story.shop.application_id
    program = story.cli("loyalty", "create", "club", "--application", str(app))
    program_id = program["programId"]
    story.campaign(
        "Club",
        ["loyalty"],
        [
            {
                "title": "Points over 100",
                "condition": ["and", [">", [".", "Session", "Total"], 100]],
                "effects": [["addLoyaltyPoints", program_id, 25, "Big basket"]],
            }
        ],
    )
    loyalty_points_come_on_close_and_go_on_cancel(story, program_id)
    referral_campaign = story.campaign(
        "Friends",
        ["referrals"],
        [
            {
                "title": "Friend bonus",
                "condition": ["and", ["referralValid"]],
                "effects": [["setDiscount", "Friend bonus", 5]],
            }
        ],
    )
    a_friend_uses_the_advocates_code(story, referral_campaign)


def balance(story: Story, program_id: int, who: str) -> float | None:
    """The current balance in the inventory; None: the program has no ledger for them yet."""
    inventory = story.api.get_customer_inventory(who, loyalty=True)
    program = (inventory.loyalty.programs or {}).get(str(program_id))
    return None if program is None else float(program.ledger.current_balance)


def loyalty_points_come_on_close_and_go_on_cancel(story: Story, program_id: int) -> None:
    read = story.management.get_loyalty_program(program_id)
    assert story.shop.application_id in read.subscribed_applications
    opened = story.session("l-1", profile_id="lea", cart_items=cart(price=60))
    assert kinds(opened) == ["addLoyaltyPoints"]
    points = story.props(opened.effects[0], talon_one.AddLoyaltyPointsEffectProps)
    assert (points.program_id, points.value, points.name) == (program_id, 25, "Big basket")
    assert points.recipient_integration_id == "lea"
    assert balance(story, program_id, "lea") is None  # an open session previews its points
    again = story.session("l-1", ["loyalty"])
    ledger = again.loyalty.programs[str(program_id)].ledger
    assert (ledger.current_balance, ledger.tentative_current_balance) == (0, 25)

    story.session("l-1", dry=True, profile_id="lea", cart_items=cart(price=60), state="closed")
    assert balance(story, program_id, "lea") is None

    closed = story.session("l-1", ["loyalty"], state="closed")
    assert kinds(closed) == ["addLoyaltyPoints"]
    assert closed.loyalty.programs[str(program_id)].ledger.current_balance == 25
    balances = story.api.get_loyalty_balances(program_id, "lea")
    assert balances.balance.active_points == 25
    earned = story.props(closed.effects[0], talon_one.AddLoyaltyPointsEffectProps)
    assert balance(story, program_id, "lea") == 25
    ledger = story.management.get_loyalty_points(program_id, "lea").ledger
    assert (ledger.total_active_points, ledger.total_pending_points) == (25, 0)
    assert [(e.amount, e.name, e.customer_session_id) for e in ledger.transactions] == [
        (25, "Big basket", "l-1")
    ]

    cancelled = story.session("l-1", ["loyalty"], state="cancelled")
    assert cancelled.loyalty.programs[str(program_id)].ledger.current_balance == 0
    [rollback] = cancelled.effects
    assert rollback.effect_type == "rollbackAddedLoyaltyPoints"
    undone = story.props(rollback, talon_one.RollbackAddedLoyaltyPointsEffectProps)
    assert (undone.program_id, undone.value) == (program_id, 25)
    assert undone.transaction_uuid == earned.transaction_uuid
    assert balance(story, program_id, "lea") == 0
    assert story.management.get_loyalty_points(program_id, "lea").ledger.total_active_points == 0


def a_friend_uses_the_advocates_code(story: Story, campaign_id: int) -> None:
    story.api.update_customer_profile_v2(
        "ada", talon_one.CustomerProfileIntegrationRequestV2(attributes={"name": "Ada"})
    )
    referral = story.api.create_referral(
        talon_one.NewReferral(campaign_id=campaign_id, advocate_profile_integration_id="ada")
    )
    assert referral.code.startswith("REF-")
    assert (referral.usage_counter, referral.usage_limit) == (0, 1)
    opened = story.session("r-1", profile_id="cleo", referral_code=referral.code, cart_items=cart())
    assert kinds(opened) == ["acceptReferral", "setDiscount"]
    accepted = story.props(opened.effects[0], talon_one.AcceptReferralEffectProps)
    assert accepted.value == referral.code
    bonus = story.props(opened.effects[1], talon_one.SetDiscountEffectProps)
    assert (bonus.name, bonus.value) == ("Friend bonus", 5)

    closed = story.session("r-1", ["referral"], state="closed")
    assert closed.referral.code == referral.code
    assert closed.referral.usage_counter == 1
    assert closed.referral.referred_customers == ["cleo"]
    listed = story.management.get_referrals_without_total_count(
        story.shop.application_id, campaign_id
    )
    assert [(r.code, r.usage_counter) for r in listed.data] == [(referral.code, 1)]
    inventory = story.api.get_customer_inventory("ada", referrals=True)
    [advocated] = inventory.referrals
    assert (advocated.code, advocated.usage_counter) == (referral.code, 1)
    assert advocated.referred_customers == ["cleo"]

    # Used up: the next friend is told so.
    late = story.session("r-2", profile_id="dan", referral_code=referral.code)
    [rejected] = late.effects
    reason = story.props(rejected, talon_one.RejectReferralEffectProps)
    assert reason.rejection_reason == "ReferralLimitReached"

    # A code for one friend: another is refused, and so is the advocate.
    for_fay = story.api.create_referral(
        talon_one.NewReferral(
            campaign_id=campaign_id,
            advocate_profile_integration_id="ada",
            friend_profile_integration_id="fay",
            usage_limit=5,
        )
    )
    for who, why in [
        ("dan", "ReferralRecipientDoesNotMatch"),
        ("ada", "ReferralRecipientIdSameAsAdvocate"),
    ]:
        [refused] = story.session(f"r-{who}", profile_id=who, referral_code=for_fay.code).effects
        assert story.props(refused, talon_one.RejectReferralEffectProps).rejection_reason == why

    # Cancelling the friend's closed session gives the code its use back.
    cancelled = story.session("r-1", ["referral"], state="cancelled")
    assert sorted(kinds(cancelled)) == ["rollbackDiscount", "rollbackReferral"]
    by_kind = {effect.effect_type: effect for effect in cancelled.effects}
    undone = story.props(by_kind["rollbackReferral"], talon_one.RollbackReferralEffectProps)
    assert undone.value == referral.code
    discount = story.props(by_kind["rollbackDiscount"], talon_one.RollbackDiscountEffectProps)
    assert (discount.name, discount.value) == ("Friend bonus", 5)
    assert cancelled.referral.usage_counter == 0
    listed = story.management.get_referrals_without_total_count(
        story.shop.application_id, campaign_id, code=referral.code
    )
    assert [r.usage_counter for r in listed.data] == [0]
    [advocated] = story.api.get_customer_inventory("ada", referrals=True).referrals[:1]
    assert (advocated.code, advocated.referred_customers) == (referral.code, [])


# --------------------------------------------------------------------------------------------
# 5, 8: audiences and one customer through every surface
# --------------------------------------------------------------------------------------------


def test_audiences_and_one_customer_everywhere(story: Story) -> None:
    audience = story.api.create_audience_v2(talon_one.NewAudience(name="VIP"))
    assert audience.name == "VIP"
    in_audience = [
        "exists",
        [".", "Profile", "Audiences"],
        ["a"],
        ["=", [".", "a"], audience.id],
    ]
    campaign_id = story.campaign(
        "Members",
        [],
        [
            {
                "title": "VIP price",
                "condition": ["and", in_audience],
                "effects": [["setDiscount", "VIP", 3]],
            },
            {
                "title": "Gold price",
                "condition": [
                    "and",
                    ["catch", False, ["=", [".", "Profile", "Attributes", "tier"], "gold"]],
                ],
                "effects": [["setDiscount", "Gold", 7]],
            },
        ],
    )
    audiences_decide_a_rule(story, audience.id, campaign_id)
    one_customer_on_every_surface(story)


def failed_rules(state: Any) -> list[str]:
    return [reason.rule_name for reason in state.rule_failure_reasons or []]


def audiences_decide_a_rule(story: Story, audience_id: int, campaign_id: int) -> None:
    def evaluate() -> talon_one.IntegrationStateV2:
        return story.session("v-1", profile_id="vic", cart_items=cart())

    before = evaluate()
    assert kinds(before) == []
    assert failed_rules(before) == ["VIP price", "Gold price"]
    failure = before.rule_failure_reasons[0]
    assert (failure.campaign_id, failure.campaign_name) == (campaign_id, "Members")

    story.api.update_customer_profile_audiences(
        talon_one.CustomerProfileAudienceRequest(
            data=[
                talon_one.CustomerProfileAudienceRequestItem(
                    action="add", profile_integration_id="vic", audience_id=audience_id
                )
            ]
        )
    )
    member = evaluate()
    assert kinds(member) == ["setDiscount"]
    assert story.props(member.effects[0], talon_one.SetDiscountEffectProps).name == "VIP"
    assert failed_rules(member) == ["Gold price"]
    assert [(m.id, m.name) for m in member.customer_profile.audience_memberships] == [
        (audience_id, "VIP")
    ]
    listed = story.management.get_audiences()
    assert [(a.id, a.name) for a in listed.data] == [(audience_id, "VIP")]

    story.api.update_customer_profile_v2(
        "vic",
        talon_one.CustomerProfileIntegrationRequestV2(
            audiences_changes=talon_one.ProfileAudiencesChanges(adds=[], deletes=[audience_id])
        ),
    )
    after = evaluate()
    assert kinds(after) == []
    assert failed_rules(after) == ["VIP price", "Gold price"]


def one_customer_on_every_surface(story: Story) -> None:
    updated = story.api.update_customer_profile_v2(
        "gus",
        talon_one.CustomerProfileIntegrationRequestV2(
            attributes={"tier": "silver", "email": "gus@example.com"},
            response_content=["customerProfile"],
        ),
    )
    assert updated.customer_profile.attributes["tier"] == "silver"
    customer = story.cli("customers", "get", "gus")
    assert customer["traits"]["tier"] == "silver"
    assert customer["traits"]["email"] == "gus@example.com"

    silver = story.session("g-1", profile_id="gus", cart_items=cart())
    assert kinds(silver) == []
    story.identify("gus", tier="gold")
    gold = story.session("g-1", cart_items=cart(quantity=3))
    assert kinds(gold) == ["setDiscount"]
    assert story.props(gold.effects[0], talon_one.SetDiscountEffectProps).name == "Gold"
    assert gold.customer_profile.attributes["tier"] == "gold"
    story.session("g-1", state="closed")
    names = story.events("gus")
    assert Counter(names)["talon_session_created"] == 1
    assert Counter(names)["talon_session_closed"] == 1
    assert names.index("talon_session_created") < names.index("talon_session_closed")
