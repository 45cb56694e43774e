"""Setting campaigns up through the service, on both databases: what is saved runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from patron.domain.errors import Invalid, NotFound
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.campaigns import LimitAction
from patron.domain.promotions.talang import RulesetInvalid
from patron.services import Services
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

RULES = {
    "rules": [
        {
            "title": "10% over 100",
            "condition": ["and", [">", [".", "Session", "Total"], 100]],
            "effects": [["setDiscount", "10% off", ["*", [".", "Session", "Total"], 0.1]]],
        }
    ],
    "bindings": [],
}


async def new_application(services: Services) -> tuple[str, int]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    return workspace.id, issued.application.id


async def test_a_saved_and_activated_ruleset_is_what_the_cache_runs(services: Services) -> None:
    workspace_id, application_id = await new_application(services)
    campaign = await services.campaigns.create(
        workspace_id,
        CampaignRecord(
            0,
            application_id,
            "Spring",
            features=("coupons",),
            limits=({"action": "redeemCoupon", "limit": 100, "entities": ["Coupon"]},),
            coupon_settings={"couponPattern": "SPRING-####", "validCharacters": ["A", "B"]},
        ),
    )
    assert campaign.id > 0
    ruleset = await services.campaigns.save_ruleset(
        workspace_id, application_id, campaign.id, RULES, activate=True
    )
    compiled = await services.store.read(
        lambda unit: services.campaign_cache.current(unit, application_id)
    )
    [running] = compiled.campaigns
    assert running.ruleset is not None
    assert running.ruleset.id == ruleset.id
    assert running.ruleset.to_json()["rules"] == RULES["rules"]
    assert running.coupon_settings.pattern == "SPRING-####"
    assert running.limits_of(LimitAction.REDEEM_COUPON)[0].limit == Decimal(100)
    assert running.running(datetime.now(UTC))

    # A change moves the version: the next read recompiles.
    before = services.campaign_cache.compilations
    await services.campaigns.update(
        workspace_id, application_id, campaign.id, {"state": "disabled"}
    )
    again = await services.store.read(
        lambda unit: services.campaign_cache.current(unit, application_id)
    )
    assert services.campaign_cache.compilations == before + 1
    assert not again.campaigns[0].running(datetime.now(UTC))


async def test_rulesets_are_versions_and_round_trip(services: Services) -> None:
    workspace_id, application_id = await new_application(services)
    campaign = await services.campaigns.create(workspace_id, CampaignRecord(0, application_id, "C"))
    first = await services.campaigns.save_ruleset(workspace_id, application_id, campaign.id, RULES)
    second = await services.campaigns.save_ruleset(
        workspace_id, application_id, campaign.id, {**RULES, "rules": RULES["rules"] * 2}
    )
    assert second.id > first.id
    read = await services.campaigns.get_ruleset(workspace_id, application_id, campaign.id, first.id)
    assert read.document() == RULES
    listed = await services.campaigns.list_rulesets(workspace_id, application_id, campaign.id)
    assert [r.id for r in listed] == [first.id, second.id]
    # Saving without activating changes nothing that runs.
    current = await services.campaigns.get(workspace_id, application_id, campaign.id)
    assert current.active_ruleset_id is None


async def test_unknown_functions_are_refused_when_saved(services: Services) -> None:
    workspace_id, application_id = await new_application(services)
    campaign = await services.campaigns.create(workspace_id, CampaignRecord(0, application_id, "C"))
    bad = {"rules": [{"title": "r", "condition": ["nope", 1], "effects": []}]}
    with pytest.raises(RulesetInvalid) as refused:
        await services.campaigns.save_ruleset(workspace_id, application_id, campaign.id, bad)
    assert "nope" in refused.value.message
    assert await services.campaigns.list_rulesets(workspace_id, application_id, campaign.id) == []


async def test_campaigns_are_refused_with_every_problem(services: Services) -> None:
    workspace_id, application_id = await new_application(services)
    now = datetime.now(UTC)
    bad = CampaignRecord(
        0,
        application_id,
        "",
        state="running",
        features=("teleport",),
        start_time=now,
        end_time=now - timedelta(days=1),
        coupon_settings={"couponPattern": "XX"},
    )
    with pytest.raises(Invalid) as refused:
        await services.campaigns.create(workspace_id, bad)
    fields = {problem.field for problem in refused.value.problems}
    assert fields == {"name", "state", "features", "endTime", "couponSettings.couponPattern"}


async def test_campaigns_belong_to_their_workspace(services: Services) -> None:
    workspace_id, application_id = await new_application(services)
    other_workspace, _ = await new_application(services)
    campaign = await services.campaigns.create(workspace_id, CampaignRecord(0, application_id, "C"))
    with pytest.raises(NotFound):
        await services.campaigns.get(other_workspace, application_id, campaign.id)
    await services.campaigns.delete(workspace_id, application_id, campaign.id)
    with pytest.raises(NotFound):
        await services.campaigns.get(workspace_id, application_id, campaign.id)
    assert await services.campaigns.list(workspace_id, application_id) == []
