"""Referral codes made through the service, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from patron.domain.errors import Conflict, Invalid, NotFound
from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.referrals import ReferralQuery
from patron.services import Services
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio


async def campaign(
    services: Services,
    *,
    case_sensitivity: str = "sensitive",
    settings: dict[str, Any] | None = None,
    features: tuple[str, ...] = ("referrals",),
) -> tuple[str, int, int]:
    """A workspace, an application and a referral campaign in it (the campaigns service)."""
    workspace = await make_workspace(services)
    issued = await services.applications.create(
        workspace=workspace.name, name="Shop", case_sensitivity=case_sensitivity
    )
    application_id = issued.application.id
    made = await services.campaigns.create(
        workspace.id,
        CampaignRecord(
            0,
            application_id,
            "Friends",
            features=features,
            referral_settings=settings
            or {"couponPattern": "REF-####", "validCharacters": ["X", "7"]},
        ),
    )
    return workspace.id, application_id, made.id


async def test_a_code_follows_the_campaigns_referral_settings(services: Services) -> None:
    workspace, application, campaign_id = await campaign(services)
    made = await services.referrals.create(
        workspace,
        application,
        {
            "campaignId": campaign_id,
            "advocateProfileIntegrationId": "ada",
            "friendProfileIntegrationId": "bea",
            "startDate": "2025-01-01T00:00:00Z",
            "expiryDate": "2025-12-31T00:00:00+01:00",
            "attributes": {"channel": "mail"},
        },
    )
    assert re.fullmatch(r"REF-[X7]{4}", made.code)
    assert (made.advocate_integration_id, made.friend_integration_id) == ("ada", "bea")
    assert (made.usage_limit, made.usage_counter, made.batch_id) == (1, 0, None)
    assert made.expiry_date == datetime(2025, 12, 30, 23, 0, tzinfo=UTC)
    found = await services.store.read(
        lambda unit: unit.referral_for_code(application, "sensitive", made.code)
    )
    assert found is not None
    assert (found.id, found.friend_integration_id, found.attributes) == (
        made.id,
        "bea",
        {"channel": "mail"},
    )


async def test_many_advocates_get_unique_codes_in_one_batch(services: Services) -> None:
    workspace, application, campaign_id = await campaign(services)
    advocates = [f"adv-{i}" for i in range(50)]
    made = await services.referrals.create_many(
        workspace,
        application,
        {
            "campaignId": campaign_id,
            "usageLimit": 0,
            "advocateProfileIntegrationIds": advocates,
            "referralPattern": "F-######",
            "validCharacters": ["a", "b", "c"],
        },
    )
    assert [r.advocate_integration_id for r in made] == advocates
    assert len({r.code for r in made}) == 50
    assert all(re.fullmatch(r"F-[abc]{6}", r.code) for r in made)
    assert len({r.batch_id for r in made}) == 1
    assert {r.usage_limit for r in made} == {0}


async def test_codes_are_unique_as_the_application_compares_them(services: Services) -> None:
    """Pattern R-# over a, A, b, B: four codes where case counts, two where it does not."""
    settings = {"couponPattern": "R-#", "validCharacters": ["a", "A", "b", "B"]}
    body = {"usageLimit": 1, "advocateProfileIntegrationIds": ["p", "q", "r"]}
    workspace, application, campaign_id = await campaign(
        services, case_sensitivity="insensitive-uppercase", settings=settings
    )
    with pytest.raises(Conflict):
        await services.referrals.create_many(
            workspace, application, {**body, "campaignId": campaign_id}
        )
    two = await services.referrals.create_many(
        workspace,
        application,
        {**body, "campaignId": campaign_id, "advocateProfileIntegrationIds": ["p", "q"]},
    )
    assert sorted(r.code.casefold() for r in two) == ["r-a", "r-b"]

    workspace, application, campaign_id = await campaign(services, settings=settings)
    three = await services.referrals.create_many(
        workspace, application, {**body, "campaignId": campaign_id}
    )
    assert len({r.code for r in three}) == 3


async def test_a_failed_batch_makes_no_codes(services: Services) -> None:
    settings = {"couponPattern": "R-#", "validCharacters": ["a", "b"]}
    workspace, application, campaign_id = await campaign(services, settings=settings)
    with pytest.raises(Conflict):
        await services.referrals.create_many(
            workspace,
            application,
            {
                "campaignId": campaign_id,
                "usageLimit": 1,
                "advocateProfileIntegrationIds": ["p"] * 3,
            },
        )
    page, more = await services.referrals.page(workspace, application, campaign_id, ReferralQuery())
    assert (page, more) == ([], False)


GOOD = object()  # the test's campaign id, filled in


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["campaignId", "advocateProfileIntegrationId"]),
        ({"campaignId": "1", "advocateProfileIntegrationId": "a"}, ["campaignId"]),
        (
            {"campaignId": GOOD, "advocateProfileIntegrationId": "x" * 1001},
            ["advocateProfileIntegrationId"],
        ),
        ({"usageLimit": 1_000_000}, ["usageLimit"]),
        ({"usageLimit": -1}, ["usageLimit"]),
        ({"startDate": "tomorrow"}, ["startDate"]),
        (
            {"startDate": "2025-02-01T00:00:00Z", "expiryDate": "2025-01-01T00:00:00Z"},
            ["expiryDate"],
        ),
        ({"attributes": []}, ["attributes"]),
        ({"friendProfileIntegrationId": ""}, ["friendProfileIntegrationId"]),
    ],
)
async def test_bad_referrals_name_their_field(
    services: Services, body: dict[str, Any], fields: list[str]
) -> None:
    """A body that names no campaign is sent as it is; else completed with the good fields."""
    workspace, application, campaign_id = await campaign(services)
    complete = {"campaignId": campaign_id, "advocateProfileIntegrationId": "ada"}
    sent = {**complete, **body} if body and "campaignId" not in body else dict(body)
    if sent.get("campaignId") is GOOD:
        sent["campaignId"] = campaign_id
    with pytest.raises(Invalid) as refused:
        await services.referrals.create(workspace, application, sent)
    assert [p.field for p in refused.value.problems] == fields


async def test_the_campaign_must_be_the_applications_and_run_referrals(services: Services) -> None:
    workspace, application, campaign_id = await campaign(services, features=("coupons",))
    for campaign_ref in (campaign_id, campaign_id + 100):
        with pytest.raises(Invalid) as refused:
            await services.referrals.create(
                workspace,
                application,
                {"campaignId": campaign_ref, "advocateProfileIntegrationId": "ada"},
            )
        assert [p.field for p in refused.value.problems] == ["campaignId"]
    other = (await make_workspace(services)).id
    with pytest.raises(NotFound):
        await services.referrals.create(
            other, application, {"campaignId": campaign_id, "advocateProfileIntegrationId": "a"}
        )


async def test_management_updates_lists_and_deletes_codes(services: Services) -> None:
    workspace, application, campaign_id = await campaign(services)
    made = await services.referrals.create_many(
        workspace,
        application,
        {
            "campaignId": campaign_id,
            "usageLimit": 2,
            "advocateProfileIntegrationIds": ["a", "b", "c"],
        },
    )
    updated = await services.referrals.update(
        workspace,
        application,
        campaign_id,
        made[0].id,
        {"usageLimit": 5, "friendProfileIntegrationId": "f", "expiryDate": "2020-01-01T00:00:00Z"},
    )
    assert (updated.usage_limit, updated.friend_integration_id, updated.code) == (
        5,
        "f",
        made[0].code,
    )
    first, more = await services.referrals.page(
        workspace, application, campaign_id, ReferralQuery(limit=2)
    )
    assert ([r.id for r in first], more) == ([made[0].id, made[1].id], True)
    expired, _ = await services.referrals.page(
        workspace, application, campaign_id, ReferralQuery(valid="expired")
    )
    assert [r.id for r in expired] == [made[0].id]
    by_advocate, _ = await services.referrals.page(
        workspace, application, campaign_id, ReferralQuery(advocate="c", descending=True)
    )
    assert [r.id for r in by_advocate] == [made[2].id]
    await services.store.write(lambda unit: unit.redeem_referral(made[1].id, "x"))
    await services.store.write(lambda unit: unit.redeem_referral(made[1].id, "y"))
    used_up, _ = await services.referrals.page(
        workspace, application, campaign_id, ReferralQuery(usable=False)
    )
    assert [r.id for r in used_up] == [made[1].id]
    await services.referrals.delete(workspace, application, campaign_id, made[1].id)
    with pytest.raises(NotFound):
        await services.referrals.delete(workspace, application, campaign_id, made[1].id)
    left, _ = await services.referrals.page(workspace, application, campaign_id, ReferralQuery())
    assert [r.id for r in left] == [made[0].id, made[2].id]
    with pytest.raises(Invalid):
        await services.referrals.update(
            workspace, application, campaign_id, made[0].id, {"startDate": "2030-01-01T00:00:00Z"}
        )
