"""Audiences: static customer segments with Talon's integer ids (both databases)."""

from __future__ import annotations

from typing import Any

import pytest

from patron.domain.customers.model import CustomerQuery
from patron.domain.errors import Invalid, NotFound
from patron.domain.people.activity import ActivityQuery, ActivityType
from patron.services import Services
from patron.surfaces.voucherify.customer_rows import customer_row
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio


async def members(services: Services, workspace_id: str, segment_id: str) -> set[str | None]:
    query = CustomerQuery(segment_id=segment_id, limit=100)
    page = await services.customers.list(workspace_id=workspace_id, query=query)
    return {profile.external_id for profile in page.customers}


async def customer(services: Services, workspace_id: str, source_id: str) -> str:
    row, problems = customer_row({"source_id": source_id})
    assert not problems
    profile, _ = await services.customers.upsert(workspace_id=workspace_id, row=row)
    return profile.id


def actions(*items: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "data": [
            {"action": action, "profileIntegrationId": profile, "audienceId": audience}
            for action, profile, audience in items
        ]
    }


async def test_an_audience_is_a_static_segment_seen_from_both_sides(services: Services) -> None:
    workspace = (await make_workspace(services)).id
    bob = await customer(services, workspace, "bob")
    vip = await services.audiences.create(workspace, {"name": "  VIP  "})
    segment = await services.customer_segments.get(
        workspace_id=workspace, segment_id=vip.segment_id
    )
    assert (segment.name, segment.type.value, vip.name) == ("VIP", "static", "VIP")

    await services.audiences.change_memberships(
        workspace, actions(("add", "alice", vip.id), ("add", "bob", vip.id))
    )
    assert await members(services, workspace, vip.segment_id) == {"alice", "bob"}
    assert await services.audiences.ids_of(workspace, bob) == (vip.id,)
    alice = await services.customers.profile(workspace_id=workspace, ref="alice")
    assert alice.external_id == "alice"  # made by the add, as Talon makes the profile

    # A static segment made through the customers API gets its id when audiences are listed.
    picked, _ = await services.customer_segments.create(
        workspace_id=workspace, name="Picked", type_="static", customers=["bob"]
    )
    listed, total = await services.audiences.page(workspace)
    assert [(a.name, a.segment_id) for a in listed] == [
        ("VIP", vip.segment_id),
        ("Picked", picked.id),
    ]
    assert total == 2
    assert listed[1].id > vip.id
    assert (await services.audiences.page(workspace))[0] == listed  # ids are kept
    assert await services.audiences.ids_of(workspace, bob) == (vip.id, listed[1].id)

    renamed = await services.audiences.update(workspace, listed[1].id, {"name": "Chosen"})
    assert renamed.name == "Chosen"
    segment = await services.customer_segments.get(workspace_id=workspace, segment_id=picked.id)
    assert segment.name == "Chosen"

    # Deleting the segment through the customers API deletes the audience; and the other way.
    await services.customer_segments.delete(workspace_id=workspace, segment_id=picked.id)
    assert [a.id for a in (await services.audiences.page(workspace))[0]] == [vip.id]
    await services.audiences.delete(workspace, vip.id)
    with pytest.raises(NotFound):
        await services.customer_segments.get(workspace_id=workspace, segment_id=vip.segment_id)
    assert await services.audiences.ids_of(workspace, bob) == ()
    with pytest.raises(NotFound):
        await services.audiences.update(workspace, vip.id, {"name": "Gone"})


async def test_membership_changes_are_all_or_nothing(services: Services) -> None:
    workspace = (await make_workspace(services)).id
    vip = await services.audiences.create(workspace, {"name": "VIP"})
    with pytest.raises(NotFound):
        await services.audiences.change_memberships(
            workspace, actions(("add", "alice", vip.id), ("add", "bob", vip.id + 1000))
        )
    assert await members(services, workspace, vip.segment_id) == set()
    with pytest.raises(NotFound):
        await services.customers.profile(workspace_id=workspace, ref="alice")


async def test_actions_apply_in_order_and_a_delete_of_no_one_does_nothing(
    services: Services,
) -> None:
    workspace = (await make_workspace(services)).id
    vip = await services.audiences.create(workspace, {"name": "VIP"})
    await services.audiences.change_memberships(
        workspace,
        actions(
            ("add", "alice", vip.id),
            ("delete", "alice", vip.id),
            ("delete", "bob", vip.id),
            ("add", "bob", vip.id),
            ("delete", "stranger", vip.id),
        ),
    )
    assert await members(services, workspace, vip.segment_id) == {"bob"}
    assert await services.audiences.clear(workspace, vip.id) == 1
    assert await members(services, workspace, vip.segment_id) == set()


async def test_audiences_belong_to_their_workspace(services: Services) -> None:
    mine, other = (await make_workspace(services)).id, (await make_workspace(services)).id
    vip = await services.audiences.create(mine, {"name": "VIP"})
    with pytest.raises(NotFound):
        await services.audiences.change_memberships(other, actions(("add", "x", vip.id)))
    with pytest.raises(NotFound):
        await services.audiences.delete(other, vip.id)
    assert (await services.audiences.page(other)) == ([], 0)


async def test_a_customer_an_add_creates_joins_the_filter_segments_it_matches(
    services: Services,
) -> None:
    workspace = (await make_workspace(services)).id
    carols, _ = await services.customer_segments.create(
        workspace_id=workspace,
        name="Carols",
        type_="auto-update",
        filter_={"junction": "and", "source_id": {"conditions": {"$is": ["carol"]}}},
    )
    vip = await services.audiences.create(workspace, {"name": "VIP"})
    await services.audiences.change_memberships(workspace, actions(("add", "carol", vip.id)))
    assert await members(services, workspace, carols.id) == {"carol"}
    entered = await services.customers.activity(
        workspace_id=workspace,
        ref="carol",
        query=ActivityQuery(types=frozenset({ActivityType.SEGMENT_ENTERED.value})),
    )
    assert [a.data["segment"]["id"] for a in entered.activities] == [carols.id]


async def test_an_integrations_audience_is_created_once(services: Services) -> None:
    workspace = (await make_workspace(services)).id
    body = {"name": "Churn risk", "integration": "segment", "integrationId": "aud-7"}
    first = await services.audiences.create(workspace, body)
    again = await services.audiences.create(workspace, {**body, "name": "Churn risk 2"})
    assert again.id == first.id
    assert (again.name, again.integration, again.integration_id) == (
        "Churn risk 2",
        "segment",
        "aud-7",
    )
    assert (await services.audiences.page(workspace))[1] == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["data"]),
        ({"data": "x"}, ["data"]),
        (
            {"data": [{"action": "move", "profileIntegrationId": "a", "audienceId": 1}]},
            ["data.0.action"],
        ),
        (
            {"data": [{"action": "add", "profileIntegrationId": "", "audienceId": True}]},
            ["data.0.profileIntegrationId", "data.0.audienceId"],
        ),
        ({"data": [1]}, ["data.0"]),
        (
            {"data": [{"action": "add", "profileIntegrationId": "a", "audienceId": 1}] * 1001},
            ["data"],
        ),
    ],
)
async def test_bad_actions_name_their_field(
    services: Services, body: dict[str, Any], fields: list[str]
) -> None:
    workspace = (await make_workspace(services)).id
    with pytest.raises(Invalid) as refused:
        await services.audiences.change_memberships(workspace, body)
    assert [p.field for p in refused.value.problems] == fields


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": 5}, {"name": "x" * 201}, {"name": "A", "integrationId": ""}],
)
async def test_bad_audiences_are_refused(services: Services, body: dict[str, Any]) -> None:
    workspace = (await make_workspace(services)).id
    with pytest.raises(Invalid):
        await services.audiences.create(workspace, body)
    with pytest.raises(Invalid):
        await services.audiences.page(workspace, sort="colour")
