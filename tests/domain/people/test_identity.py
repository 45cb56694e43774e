"""Identity resolution through the tracking service, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patron.domain.errors import NotFound
from patron.domain.people.profiles import IdentityKind
from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

USER = IdentityKind.USER_ID
ANON = IdentityKind.ANONYMOUS_ID


def message(type_: str, **document: Any):
    built, problems = build_message(MessageType(type_), document, received_at=datetime.now(UTC))
    assert built is not None, problems
    return built


class Recorder:
    def __init__(self, services: Services, workspace_id: str) -> None:
        self.services = services
        self.workspace_id = workspace_id

    async def send(self, *messages: Any) -> None:
        await self.services.tracking.ingest(workspace_id=self.workspace_id, messages=messages)

    async def customer(self, ref: str):
        return await self.services.customers.get(workspace_id=self.workspace_id, ref=ref)

    async def events(self, ref: str) -> list[dict[str, Any]]:
        return await self.services.customers.list_events(
            workspace_id=self.workspace_id, ref=ref, limit=1000
        )


@pytest.fixture
async def rec(services: Services) -> Recorder:
    return Recorder(services, (await make_workspace(services)).id)


async def test_identify_with_an_anonymous_id_promotes_the_anonymous_profile(rec: Recorder) -> None:
    await rec.send(message("track", anonymousId="a1", event="Viewed"))
    anonymous = await rec.customer("a1")
    await rec.send(message("identify", userId="u1", anonymousId="a1", traits={"email": "x@y"}))
    person = await rec.customer("u1")
    assert person.profile.id == anonymous.profile.id
    assert person.profile.email == "x@y"
    assert [e["type"] for e in await rec.events("u1")] == ["identify", "track"]


async def test_anonymous_profile_merges_into_a_known_person(rec: Recorder) -> None:
    await rec.send(message("identify", userId="u1", traits={"email": "keep@x"}))
    await rec.send(message("track", anonymousId="a1", event="Viewed"))
    await rec.send(message("identify", anonymousId="a1", traits={"email": "lose@x", "ref": "ad"}))
    anonymous_id = (await rec.customer("a1")).profile.id
    await rec.send(message("track", userId="u1", anonymousId="a1", event="Paid"))
    person = await rec.customer("u1")
    assert (await rec.customer("a1")).profile.id == person.profile.id
    assert (await rec.customer(anonymous_id)).profile.id == person.profile.id  # follows the merge
    assert person.profile.email == "keep@x"
    assert person.profile.attributes == {"ref": "ad"}
    assert {(USER, "u1"), (ANON, "a1")} <= set(person.identities)
    assert sorted(e["name"] or e["type"] for e in await rec.events("u1")) == [
        "Paid",
        "Viewed",
        "identify",
        "identify",
    ]


async def test_a_shared_device_does_not_merge_two_people(rec: Recorder) -> None:
    await rec.send(message("track", userId="u1", anonymousId="device", event="a"))
    await rec.send(message("track", userId="u2", anonymousId="device", event="b"))
    first, second = await rec.customer("u1"), await rec.customer("u2")
    assert first.profile.id != second.profile.id
    assert (await rec.customer("device")).profile.id == first.profile.id
    assert [e["name"] for e in await rec.events("u2")] == ["b"]


async def test_alias_merges_two_known_people_keeping_everything(rec: Recorder) -> None:
    await rec.send(
        message("identify", userId="old", traits={"plan": "free", "phone": "1"}),
        message("track", userId="old", event="a"),
        message("identify", userId="new", traits={"plan": "pro"}),
        message("track", userId="new", event="b"),
    )
    await rec.send(message("alias", previousId="old", userId="new"))
    merged = await rec.customer("old")
    assert merged.profile.external_id == "new"
    assert merged.profile.attributes == {"plan": "pro"}
    assert merged.profile.phone == "1"
    assert {(USER, "old"), (USER, "new")} <= set(merged.identities)
    assert sorted(e["type"] + (e["name"] or "") for e in await rec.events("new")) == [
        "alias",
        "identify",
        "identify",
        "tracka",
        "trackb",
    ]


async def test_alias_of_an_unknown_previous_id_registers_it(rec: Recorder) -> None:
    await rec.send(message("alias", previousId="p1", userId="u1"))
    await rec.send(message("track", anonymousId="p1", event="later"))
    await rec.send(message("track", userId="p1", event="later too"))
    assert len(await rec.events("u1")) == 3


async def test_alias_renames_a_person_when_the_new_id_is_unknown(rec: Recorder) -> None:
    await rec.send(message("identify", userId="old"))
    await rec.send(message("alias", previousId="old", userId="new"))
    renamed = await rec.customer("new")
    assert renamed.profile.external_id == "new"
    assert (await rec.customer("old")).profile.id == renamed.profile.id


async def test_merges_inside_one_batch_keep_every_event(rec: Recorder) -> None:
    await rec.send(
        message("track", anonymousId="a1", event="1"),
        message("track", userId="u1", event="2"),
        message("track", userId="u1", anonymousId="a1", event="3"),
        message("track", anonymousId="a1", event="4"),
    )
    assert sorted(e["name"] for e in await rec.events("u1")) == ["1", "2", "3", "4"]


async def test_groups_are_recorded_with_their_traits(rec: Recorder) -> None:
    await rec.send(message("group", userId="u1", groupId="acme", traits={"plan": "gold"}))
    await rec.send(message("group", userId="u1", groupId="acme", traits={"seats": 5}))
    view = await rec.customer("u1")
    assert view.groups == [{"group_id": "acme", "traits": {"plan": "gold", "seats": 5}}]


async def test_a_duplicate_message_is_stored_once_and_applied_once(rec: Recorder) -> None:
    first = message("identify", userId="u1", messageId="m1", traits={"plan": "pro"})
    await rec.send(first, first)
    await rec.send(message("identify", userId="u1", traits={"plan": "free"}))
    await rec.send(message("identify", userId="u1", messageId="m1", traits={"plan": "pro"}))
    assert len(await rec.events("u1")) == 2
    assert (await rec.customer("u1")).profile.attributes == {"plan": "free"}


async def test_workspaces_never_share_customers(services: Services) -> None:
    first = Recorder(services, (await make_workspace(services)).id)
    second = Recorder(services, (await make_workspace(services)).id)
    await first.send(message("identify", userId="u1", messageId="same", traits={"plan": "a"}))
    await second.send(message("identify", userId="u1", messageId="same", traits={"plan": "b"}))
    one, two = await first.customer("u1"), await second.customer("u1")
    assert one.profile.id != two.profile.id
    assert (one.profile.attributes, two.profile.attributes) == ({"plan": "a"}, {"plan": "b"})
    with pytest.raises(NotFound):
        await first.customer(two.profile.id)
