"""Applying a declaration: a plan first, then changes; the same file twice changes nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from patron.domain.errors import Invalid
from patron.domain.promotions.apply import PromotionsApplier
from patron.domain.promotions.coupon_model import CouponQuery
from patron.domain.promotions.declared import read_declaration
from patron.services import Services
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

RULE = {
    "title": "10% off with a coupon",
    "condition": ["and", ["couponValid"]],
    "effects": [["setDiscount", "10% off", ["*", [".", "Session", "Total"], 0.1]]],
}
DOCUMENT: dict[str, Any] = {
    "applications": [
        {
            "name": "Shop",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "campaigns": [
                {
                    "name": "Spring",
                    "features": ["coupons"],
                    "startTime": datetime(2026, 3, 1, tzinfo=UTC),  # as YAML reads it
                    "limits": [{"action": "redeemCoupon", "limit": 10, "entities": ["Coupon"]}],
                    "rules": [RULE],
                },
                {"name": "Later", "state": "disabled"},
            ],
        }
    ]
}


def applier(services: Services) -> PromotionsApplier:
    return PromotionsApplier(
        services.workspaces,
        services.applications,
        services.campaigns,
        services.coupons,
        services.loyalty,
    )


async def test_a_file_sets_up_campaigns_from_nothing_and_twice_is_a_no_op(
    services: Services,
) -> None:
    workspace = await make_workspace(services)
    declaration = read_declaration(DOCUMENT)
    plan = await applier(services).apply(workspace.name, declaration, execute=False)
    assert [(s.action, s.target) for s in plan.steps] == [
        ("create", "application Shop"),
        ("create", "campaign Shop / Spring"),
        ("activate", "campaign Shop / Spring: ruleset"),
        ("create", "campaign Shop / Later"),
    ]
    assert await services.applications.of_workspace(workspace_id=workspace.id) == []

    done = await applier(services).apply(workspace.name, declaration, execute=True)
    assert [s.action for s in done.steps] == [s.action for s in plan.steps]
    [issued] = done.issued
    assert issued.integration_key
    assert issued.management_key
    application_id = issued.application.id
    campaigns = await services.campaigns.list(workspace.id, application_id)
    spring = next(c for c in campaigns if c.name == "Spring")
    assert spring.active_ruleset_id is not None
    ruleset = await services.campaigns.get_ruleset(
        workspace.id, application_id, spring.id, spring.active_ruleset_id
    )
    assert ruleset.rules == [RULE]
    compiled = await services.store.read(
        lambda unit: services.campaign_cache.current(unit, application_id)
    )
    assert {c.name for c in compiled.campaigns if c.running(datetime(2026, 4, 1, tzinfo=UTC))} == {
        "Spring"
    }

    again = await applier(services).apply(workspace.name, declaration, execute=True)
    assert not again.changed
    assert {s.action for s in again.steps} == {"unchanged"}
    assert again.issued == []
    versions = await services.campaigns.list_rulesets(workspace.id, application_id, spring.id)
    assert len(versions) == 1


async def test_a_changed_file_changes_what_differs(services: Services) -> None:
    workspace = await make_workspace(services)
    await applier(services).apply(workspace.name, read_declaration(DOCUMENT), execute=True)
    changed = copy.deepcopy(DOCUMENT)
    spring = changed["applications"][0]["campaigns"][0]
    spring["limits"][0]["limit"] = 20
    spring["rules"] = [{**RULE, "title": "15% off"}]
    plan = await applier(services).apply(workspace.name, read_declaration(changed), execute=True)
    steps = {(s.action, s.target): s.changes for s in plan.steps}
    assert ("unchanged", "application Shop") in steps
    assert ("unchanged", "campaign Shop / Later") in steps
    [limits] = steps[("update", "campaign Shop / Spring")]
    assert limits.startswith("limits:")
    assert ("activate", "campaign Shop / Spring: ruleset") in steps
    [application] = await services.applications.of_workspace(workspace_id=workspace.id)
    [record] = [
        c for c in await services.campaigns.list(workspace.id, application.id) if c.name == "Spring"
    ]
    assert record.limits[0]["limit"] == 20
    versions = await services.campaigns.list_rulesets(workspace.id, application.id, record.id)
    assert [v.rules[0]["title"] for v in versions] == ["10% off with a coupon", "15% off"]
    assert record.active_ruleset_id == versions[-1].id


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["applications"][0].update(currency="euro"), "applications.0.currency"),
        (lambda d: d["applications"][0].update(colour="red"), "applications.0.colour"),
        (
            lambda d: d["applications"][0]["campaigns"][0]["rules"][0].update(condition=["nope"]),
            "applications.0.campaigns.0.rules.0.condition",
        ),
        (
            lambda d: d["applications"][0]["campaigns"][1].update(state="on"),
            "applications.0.campaigns.1.state",
        ),
        (
            lambda d: d["applications"][0]["campaigns"].append({"name": "Later"}),
            "applications.0.campaigns",
        ),
        (lambda d: d.update(campaigns=[]), "campaigns"),
    ],
)
def test_mistakes_in_the_file_are_refused_with_where_they_are(change: Any, where: str) -> None:
    document = copy.deepcopy(DOCUMENT)
    change(document)
    with pytest.raises(Invalid) as refused:
        read_declaration(document)
    assert any((p.field or "").startswith(where) for p in refused.value.problems), (
        refused.value.problems
    )


WITH_CODES: dict[str, Any] = {
    "applications": [
        {
            "name": "Shop",
            "caseSensitivity": "insensitive-uppercase",
            "campaigns": [
                {
                    "name": "Spring",
                    "features": ["coupons", "loyalty"],
                    "rules": [RULE],
                    "coupons": [{"codes": ["SPRING-1", "SPRING-2"], "usageLimit": 5}],
                }
            ],
        }
    ],
    "loyaltyPrograms": [
        {"name": "club", "title": "Shop Club", "applications": ["Shop"], "defaultValidity": "1Y"}
    ],
}


async def test_coupons_and_loyalty_programs_are_applied_idempotently(services: Services) -> None:
    workspace = await make_workspace(services)
    plan = await applier(services).apply(
        workspace.name, read_declaration(WITH_CODES), execute=False
    )
    assert ("create", "campaign Shop / Spring: coupons") in [
        (s.action, s.target) for s in plan.steps
    ]
    assert ("create", "loyalty program club") in [(s.action, s.target) for s in plan.steps]

    done = await applier(services).apply(workspace.name, read_declaration(WITH_CODES), execute=True)
    [issued] = done.issued
    application_id = issued.application.id
    [campaign] = await services.campaigns.list(workspace.id, application_id)
    coupons = await services.coupons.find(
        workspace_id=workspace.id,
        query=CouponQuery(application_id=application_id, campaign_id=campaign.id),
    )
    assert sorted((c.value, c.terms.usage_limit) for c in coupons) == [
        ("SPRING-1", 5),
        ("SPRING-2", 5),
    ]
    [program] = await services.loyalty.of_workspace(workspace_id=workspace.id)
    assert (program.title, program.subscribed_applications) == ("Shop Club", (application_id,))
    assert program.default_validity == "1Y"

    again = await applier(services).apply(
        workspace.name, read_declaration(WITH_CODES), execute=True
    )
    assert not again.changed, again.steps

    changed = copy.deepcopy(WITH_CODES)
    changed["applications"][0]["campaigns"][0]["coupons"][0].update(
        codes=["SPRING-1", "SPRING-2", "SPRING-3"], usageLimit=10
    )
    changed["loyaltyPrograms"][0]["title"] = "The Club"
    done = await applier(services).apply(workspace.name, read_declaration(changed), execute=True)
    steps = [(s.action, s.target, s.changes) for s in done.steps if s.changes_something]
    assert ("create", "campaign Shop / Spring: coupons", ("SPRING-3",)) in steps
    assert {t for a, t, _ in steps if a == "update"} == {
        "campaign Shop / Spring: coupons SPRING-1",
        "campaign Shop / Spring: coupons SPRING-2",
        "loyalty program club",
    }
    coupons = await services.coupons.find(
        workspace_id=workspace.id,
        query=CouponQuery(application_id=application_id, campaign_id=campaign.id),
    )
    assert {c.terms.usage_limit for c in coupons} == {10}
    assert len(coupons) == 3
    [program] = await services.loyalty.of_workspace(workspace_id=workspace.id)
    assert program.title == "The Club"


def test_coupon_terms_and_programs_are_checked_before_anything() -> None:
    document = copy.deepcopy(WITH_CODES)
    document["applications"][0]["campaigns"][0]["coupons"][0]["usageLimit"] = -1
    document["loyaltyPrograms"][0]["applications"] = ["Elsewhere"]
    with pytest.raises(Invalid) as refused:
        read_declaration(document)
    fields = {p.field for p in refused.value.problems}
    assert "applications.0.campaigns.0.coupons.0.usageLimit" in fields
    assert "loyaltyPrograms.0.applications" in fields


async def test_case_sensitivity_stays_once_codes_exist(services: Services) -> None:
    workspace = await make_workspace(services)
    await applier(services).apply(workspace.name, read_declaration(WITH_CODES), execute=True)
    changed = copy.deepcopy(WITH_CODES)
    changed["applications"][0]["caseSensitivity"] = "sensitive"
    with pytest.raises(Invalid) as refused:
        await applier(services).apply(workspace.name, read_declaration(changed), execute=True)
    assert [p.field for p in refused.value.problems] == ["caseSensitivity"]
    [application] = await services.applications.of_workspace(workspace_id=workspace.id)
    assert application.case_sensitivity == "insensitive-uppercase"
