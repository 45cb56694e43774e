"""Rulesets: saved with the legacy SDK's body (raw HTTP), read with the current SDK; a
ruleset that cannot run is refused with the place of each error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
import talon_one
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from talon_one.rest import ApiException

from tests.chaos import scale
from tests.domain.promotions.talang.test_roundtrip import BOOLEAN, EFFECTS, NAMES, NUMBER
from tests.surfaces.talon_one.management.test_campaigns import create, legacy_new_campaign
from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures

COUPON_RULE = {
    "title": "Free money for all!",
    "condition": ["and", ["couponValid"]],
    "effects": [["setDiscount", "Free money", 45.55]],
}
TEN_PERCENT = {
    "title": "10% over 100",
    "condition": ["and", [">", [".", "Session", "Total"], 100]],
    "effects": [
        [
            "catch",
            ["noop"],
            ["setDiscount", "10% off", ["*", [".", "Session", "Total"], ["/", 10, 100]]],
        ]
    ],
}


def new_ruleset(rules: list[Any], activate: bool | None = None) -> dict[str, Any]:
    """The legacy SDK's ``NewRuleset`` as its ``create_ruleset`` sends it."""
    body: dict[str, Any] = {"rules": rules, "bindings": [], "rbVersion": "v2"}
    if activate is not None:
        body["activate"] = activate
    return body


def rulesets_url(shop: TalonShop, campaign_id: int) -> str:
    return f"{shop.url}/v1/applications/{shop.application_id}/campaigns/{campaign_id}/rulesets"


def test_rulesets_are_saved_activated_read_and_replaced_by_new_versions(
    shop: TalonShop,
) -> None:
    headers = shop.management_headers()
    campaign = create(shop, legacy_new_campaign("Spring"))
    url = rulesets_url(shop, campaign["id"])
    response = httpx.post(url, json=new_ruleset([COUPON_RULE], activate=True), headers=headers)
    assert response.status_code == 201, response.text
    first = response.json()

    api = shop.management
    read = api.get_ruleset(shop.application_id, campaign["id"], first["id"])
    assert (read.id, read.campaign_id, read.rb_version) == (first["id"], campaign["id"], "v2")
    assert read.activated_at is not None
    [rule] = read.rules
    assert (rule.title, rule.condition, rule.effects) == (
        COUPON_RULE["title"],
        COUPON_RULE["condition"],
        COUPON_RULE["effects"],
    )
    assert api.get_campaign(shop.application_id, campaign["id"]).active_ruleset_id == first["id"]

    # The legacy update of the active ruleset: a new version, active in its place.
    replaced = httpx.put(f"{url}/{first['id']}", json=new_ruleset([TEN_PERCENT]), headers=headers)
    assert replaced.status_code == 200, replaced.text
    second = replaced.json()
    assert second["id"] > first["id"]
    assert api.get_campaign(shop.application_id, campaign["id"]).active_ruleset_id == second["id"]
    # A saved, not activated version changes nothing that runs; activating it is an update.
    draft = httpx.post(url, json=new_ruleset([COUPON_RULE, TEN_PERCENT]), headers=headers).json()
    assert "activatedAt" not in draft
    assert api.get_campaign(shop.application_id, campaign["id"]).active_ruleset_id == second["id"]
    api.update_campaign(
        shop.application_id,
        campaign["id"],
        talon_one.UpdateCampaign(
            name="Spring", tags=[], features=[], limits=[], active_ruleset_id=draft["id"]
        ),
    )
    assert api.get_ruleset(shop.application_id, campaign["id"], draft["id"]).activated_at

    listed = api.get_rulesets(shop.application_id, campaign["id"])
    assert listed.total_result_size == 3
    assert [r.id for r in listed.data] == [first["id"], second["id"], draft["id"]]
    assert [len(r.rules) for r in listed.data] == [1, 1, 2]
    newest = api.get_rulesets(shop.application_id, campaign["id"], page_size=1, sort="-id")
    assert [r.id for r in newest.data] == [draft["id"]]
    # The first version is unchanged: effects that named it still mean what they meant.
    unchanged = httpx.get(f"{url}/{first['id']}", headers=headers).json()
    assert unchanged["rules"] == [COUPON_RULE]


def test_a_rule_that_cannot_run_is_refused_with_its_place(shop: TalonShop) -> None:
    headers = shop.management_headers()
    campaign = create(shop, legacy_new_campaign("Spring"))
    url = rulesets_url(shop, campaign["id"])
    unknown = {"title": "Teleport", "condition": ["and", ["teleport", 1]], "effects": []}
    response = httpx.post(url, json=new_ruleset([COUPON_RULE, unknown]), headers=headers)
    error = raw_talon_error(response, 400)
    [item] = error["errors"]
    assert item["source"] == {"pointer": "/rules/1/condition/1/0"}
    assert "Teleport" in item["title"]
    assert "teleport" in error["message"]

    bad_bodies: list[tuple[Any, str]] = [
        ({"bindings": []}, "/rules"),
        ({"rules": [{"condition": ["and", True], "effects": []}]}, "/rules/0/title"),
        (new_ruleset([{**COUPON_RULE, "effects": [["setDiscount"]]}]), "/rules/0/effects/0"),
        ({"rules": [], "bindings": [{"name": "n", "expression": 5}]}, "/bindings/0/expression"),
        ({"rules": [], "bindings": [], "activate": "yes"}, "/activate"),
    ]
    for body, pointer in bad_bodies:
        refused = raw_talon_error(httpx.post(url, json=body, headers=headers), 400)
        pointers = [entry["source"].get("pointer") for entry in refused["errors"]]
        assert any(p.startswith(pointer) for p in pointers), (body, refused)
    assert shop.management.get_rulesets(shop.application_id, campaign["id"]).data == []

    # Activating a ruleset of another campaign, and unknown ids.
    other = create(shop, legacy_new_campaign("Other"))
    theirs = httpx.post(
        rulesets_url(shop, other["id"]), json=new_ruleset([COUPON_RULE]), headers=headers
    ).json()
    with pytest.raises(ApiException) as foreign:
        shop.management.update_campaign(
            shop.application_id,
            campaign["id"],
            talon_one.UpdateCampaign(
                name="Spring", tags=[], features=[], limits=[], active_ruleset_id=theirs["id"]
            ),
        )
    assert talon_error(foreign.value, 400)["errors"][0]["source"] == {"pointer": "/activeRulesetId"}
    with pytest.raises(ApiException) as missing:
        shop.management.get_ruleset(shop.application_id, campaign["id"], theirs["id"])
    talon_error(missing.value, 404)
    for method, target, status in [
        ("PUT", f"{url}/{theirs['id']}", 404),
        ("PUT", f"{url}/99999999999", 404),
        ("GET", f"{url}/x", 404),
        ("POST", rulesets_url(shop, 424242), 404),
        ("GET", f"{url}?pageSize=abc", 400),
        ("GET", f"{url}?sort=title", 400),
    ]:
        response = httpx.request(method, target, json=new_ruleset([]), headers=headers)
        raw_talon_error(response, status)


# Rulesets from a small grammar of known functions and paths (the engine's own round-trip
# grammar), as a client sends them: binding expressions are calls, text holds no NUL.
CALLS = NUMBER.map(lambda n: n if isinstance(n, list) else ["round", n, 2])
BINDINGS = st.lists(
    st.tuples(NAMES, CALLS).map(lambda t: {"name": t[0], "expression": t[1]}),
    max_size=2,
    unique_by=lambda b: b["name"],
)
RULES = st.fixed_dictionaries(
    {
        "title": st.text(min_size=1, max_size=20),
        "condition": BOOLEAN.filter(lambda b: isinstance(b, list)),
        "effects": EFFECTS,
    },
    optional={"description": st.text(max_size=20), "bindings": BINDINGS},
)
RULESETS = st.fixed_dictionaries(
    {"rules": st.lists(RULES, max_size=3), "bindings": BINDINGS},
    optional={"rbVersion": st.just("v2")},
).filter(lambda document: "\\u0000" not in json.dumps(document))


def decimals(text: str) -> Any:
    """JSON with its numbers as decimals, as Talang reads them: PostgreSQL keeps a number's
    value, not its spelling (``5.9e+16`` reads back as ``59000000000000000``)."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def test_a_ruleset_reads_back_as_it_was_saved(shop: TalonShop) -> None:
    campaign = create(shop, legacy_new_campaign("Spring"))
    url = rulesets_url(shop, campaign["id"])
    client = httpx.Client(headers=shop.management_headers())

    @settings(
        max_examples=scale(30, 500),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(RULESETS)
    def round_trip(document: dict[str, Any]) -> None:
        sent = json.dumps(document)
        response = client.post(url, content=sent)
        assert response.status_code == 201, response.text
        saved = response.json()
        read = client.get(f"{url}/{saved['id']}")
        expected = decimals(sent)
        for answer in (decimals(response.text), decimals(read.text)):
            assert answer["rules"] == expected["rules"]
            assert answer["bindings"] == expected["bindings"]
            assert answer.get("rbVersion") == expected.get("rbVersion")
        # ... and the current SDK reads it.
        model = shop.management.get_ruleset(shop.application_id, campaign["id"], saved["id"])
        assert [rule.title for rule in model.rules] == [r["title"] for r in document["rules"]]

    with client:
        round_trip()
