"""Identity over HTTP: identify builds profiles, anonymous history follows the person,
alias merges, shared devices stay apart, groups are recorded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.domain.customers.model import CustomerView
from patron.domain.people.profiles import IdentityKind
from patron.services import Services
from tests.conftest import WorkspaceKeys

pytestmark = pytest.mark.anyio

USER = IdentityKind.USER_ID
ANON = IdentityKind.ANONYMOUS_ID


class Client:
    """Posts tracking calls for one workspace and reads back what was stored."""

    def __init__(self, api: httpx.AsyncClient, services: Services, workspace: WorkspaceKeys):
        self.api = api
        self.services = services
        self.workspace = workspace

    async def send(self, path: str, body: dict[str, Any]) -> None:
        response = await self.api.post(path, auth=(self.workspace.write_key, ""), json=body)
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}

    async def identify(self, **body: Any) -> None:
        await self.send("/v1/identify", body)

    async def track(self, **body: Any) -> None:
        await self.send("/v1/track", {"event": "Viewed", **body})

    async def batch(self, *items: dict[str, Any]) -> None:
        await self.send("/v1/batch", {"batch": list(items)})

    async def customer(self, ref: str) -> CustomerView:
        return await self.services.customers.get(workspace_id=self.workspace.id, ref=ref)

    async def events(self, ref: str) -> list[dict[str, Any]]:
        return await self.services.customers.list_events(
            workspace_id=self.workspace.id, ref=ref, limit=1000
        )

    async def event_names(self, ref: str) -> list[str]:
        return sorted(e["name"] or e["type"] for e in await self.events(ref))


@pytest.fixture
def client(
    api: httpx.AsyncClient, app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> Client:
    return Client(api, app_services[1], workspace)


# -- identify builds the profile -----------------------------------------------------


async def test_identify_maps_reserved_traits_to_standard_fields(client: Client) -> None:
    address = {"street": "1 Main St", "city": "Springfield", "postalCode": "12345"}
    traits = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "birthday": "1815-12-10",
        "address": address,
        "description": "Analyst",
        "plan": "enterprise",
        "logins": 3,
        "tags": ["a", "b"],
        "flags": {"beta": True},
    }
    await client.identify(userId="u1", traits=traits)
    view = await client.customer("u1")
    profile = view.profile
    assert profile.external_id == "u1"
    assert profile.name == "Ada Lovelace"
    assert profile.email == "ada@example.com"
    assert profile.phone == "+44 20 7946 0000"
    assert profile.birthdate == "1815-12-10"
    assert profile.address == address
    assert profile.description == "Analyst"
    assert profile.attributes == {
        "plan": "enterprise",
        "logins": 3,
        "tags": ["a", "b"],
        "flags": {"beta": True},
    }
    assert profile.traits() == traits
    assert profile.merged_into is None
    assert view.identities == [(USER, "u1")]


async def test_first_and_last_name_compose_the_name(client: Client) -> None:
    await client.identify(userId="u1", traits={"firstName": "Grace", "lastName": "Hopper"})
    await client.identify(
        userId="u2", traits={"name": "Rear Admiral", "firstName": "Grace", "lastName": "Hopper"}
    )
    first = (await client.customer("u1")).profile
    assert first.name == "Grace Hopper"
    assert first.attributes == {"firstName": "Grace", "lastName": "Hopper"}
    assert (await client.customer("u2")).profile.name == "Rear Admiral"


async def test_a_second_identify_updates_the_profile_and_null_erases_nothing(
    client: Client,
) -> None:
    await client.identify(userId="u1", traits={"email": "old@example.com", "plan": "free"})
    await client.identify(
        userId="u1", traits={"email": "new@example.com", "seats": 5, "plan": None}
    )
    profile = (await client.customer("u1")).profile
    assert profile.email == "new@example.com"
    assert profile.attributes == {"plan": "free", "seats": 5}
    assert len(await client.events("u1")) == 2


async def test_a_birthday_too_long_for_a_date_is_kept_as_an_attribute(client: Client) -> None:
    """The birthdate field holds 40 characters (PostgreSQL refused a longer one: a 500);
    a longer ``birthday`` trait is still the client's data, kept as an attribute."""
    long = "sometime in the spring of the year 1815, or so they say"
    await client.identify(userId="u1", traits={"birthday": long, "plan": "pro"})
    profile = (await client.customer("u1")).profile
    assert profile.birthdate is None
    assert profile.attributes == {"birthday": long, "plan": "pro"}
    await client.identify(userId="u1", traits={"birthday": "2024-06-01T12:00:00.000+02:00"})
    assert (await client.customer("u1")).profile.birthdate == "2024-06-01T12:00:00.000+02:00"


async def test_identify_traits_are_read_from_context_traits_too(client: Client) -> None:
    # RudderStack sends identify traits only in context.traits.
    await client.identify(userId="rudder", context={"traits": {"email": "r@example.com", "a": 1}})
    profile = (await client.customer("rudder")).profile
    assert profile.email == "r@example.com"
    assert profile.attributes == {"a": 1}
    # With both, `traits` wins and the rest of context.traits still applies.
    await client.batch(
        {
            "type": "identify",
            "userId": "both",
            "traits": {"email": "top@example.com", "plan": "pro"},
            "context": {"traits": {"email": "ctx@example.com", "plan": "free", "extra": True}},
        }
    )
    profile = (await client.customer("both")).profile
    assert profile.email == "top@example.com"
    assert profile.attributes == {"plan": "pro", "extra": True}


async def test_only_identify_changes_traits(client: Client) -> None:
    await client.identify(userId="u1", traits={"plan": "free"})
    await client.track(userId="u1", context={"traits": {"plan": "hacked"}})
    await client.send("/v1/page", {"userId": "u1", "context": {"traits": {"email": "x@y"}}})
    profile = (await client.customer("u1")).profile
    assert profile.attributes == {"plan": "free"}
    assert profile.email is None


async def test_a_duplicate_identify_does_not_reapply_its_traits(client: Client) -> None:
    await client.identify(userId="u1", messageId="m1", traits={"plan": "free", "n": 1})
    await client.identify(userId="u1", messageId="m2", traits={"plan": "pro"})
    await client.identify(userId="u1", messageId="m1", traits={"plan": "free", "n": 1})
    await client.batch(
        {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"plan": "free"}},
        {"type": "identify", "userId": "u1", "messageId": "m3", "traits": {"n": 3}},
        {"type": "identify", "userId": "u1", "messageId": "m3", "traits": {"n": 4}},
    )
    profile = (await client.customer("u1")).profile
    assert profile.attributes == {"plan": "pro", "n": 3}
    assert sorted(e["message_id"] for e in await client.events("u1")) == ["m1", "m2", "m3"]


# -- anonymous history follows the person ----------------------------------------------


async def test_identify_claims_the_anonymous_history_of_a_new_person(client: Client) -> None:
    await client.track(anonymousId="anon-1", event="Viewed Product")
    await client.send("/v1/page", {"anonymousId": "anon-1", "name": "Pricing"})
    anonymous = await client.customer("anon-1")
    assert anonymous.profile.external_id is None

    await client.identify(userId="u1", anonymousId="anon-1", traits={"email": "u1@example.com"})
    person = await client.customer("u1")
    assert await client.event_names("u1") == ["Pricing", "Viewed Product", "identify"]
    assert (await client.customer("anon-1")).profile.id == person.profile.id
    assert {(USER, "u1"), (ANON, "anon-1")} <= set(person.identities)
    assert person.profile.email == "u1@example.com"
    # Later anonymous calls from the same device land on the person too.
    await client.track(anonymousId="anon-1", event="Added to Cart")
    assert "Added to Cart" in await client.event_names("u1")


async def test_an_anonymous_profile_merges_into_a_known_person(client: Client) -> None:
    await client.identify(userId="u1", traits={"email": "keep@example.com"})
    await client.track(anonymousId="anon-2", event="Viewed")
    await client.identify(anonymousId="anon-2", traits={"email": "lose@example.com", "src": "ad"})
    anonymous_id = (await client.customer("anon-2")).profile.id

    await client.track(userId="u1", anonymousId="anon-2", event="Paid")
    person = await client.customer("u1")
    assert person.profile.id != anonymous_id
    assert await client.event_names("u1") == ["Paid", "Viewed", "identify", "identify"]
    assert (await client.customer("anon-2")).profile.id == person.profile.id
    merged = await client.customer(anonymous_id)  # the merged profile resolves to the person
    assert merged.profile.id == person.profile.id
    assert person.profile.email == "keep@example.com"  # the survivor's values win
    assert person.profile.attributes == {"src": "ad"}  # the merged one fills gaps
    assert {(USER, "u1"), (ANON, "anon-2")} <= set(person.identities)


async def test_the_merged_profile_records_where_it_went(client: Client) -> None:
    await client.identify(userId="u1")
    await client.track(anonymousId="anon-3")
    anonymous_id = (await client.customer("anon-3")).profile.id
    await client.identify(userId="u1", anonymousId="anon-3")
    person_id = (await client.customer("u1")).profile.id

    def load(unit: Any) -> Any:
        return unit.get_profile(client.workspace.id, anonymous_id)

    merged = await client.services.store.read(load)
    assert merged is not None
    assert merged.merged_into == person_id


async def test_merges_inside_one_batch_keep_every_event(client: Client) -> None:
    await client.batch(
        {"type": "track", "anonymousId": "anon-4", "event": "First"},
        {"type": "identify", "userId": "u4", "traits": {"plan": "pro"}},
        {"type": "page", "anonymousId": "anon-4", "name": "Second"},
        {"type": "identify", "userId": "u4", "anonymousId": "anon-4"},
        {"type": "track", "anonymousId": "anon-4", "event": "Third"},
    )
    assert await client.event_names("u4") == ["First", "Second", "Third", "identify", "identify"]
    assert (await client.customer("anon-4")).profile.id == (await client.customer("u4")).profile.id


async def test_a_shared_device_does_not_merge_two_people(client: Client) -> None:
    await client.identify(userId="alice", anonymousId="family-ipad", traits={"name": "Alice"})
    await client.identify(userId="bob", anonymousId="family-ipad", traits={"name": "Bob"})
    await client.track(userId="bob", anonymousId="family-ipad", event="Bob Bought")
    alice, bob = await client.customer("alice"), await client.customer("bob")
    assert alice.profile.id != bob.profile.id
    assert alice.profile.merged_into is None
    assert bob.profile.merged_into is None
    assert (alice.profile.name, bob.profile.name) == ("Alice", "Bob")
    assert (await client.customer("family-ipad")).profile.id == alice.profile.id
    assert await client.event_names("alice") == ["identify"]
    assert await client.event_names("bob") == ["Bob Bought", "identify"]
    assert (ANON, "family-ipad") not in bob.identities


# -- alias -------------------------------------------------------------------------------


async def test_alias_merges_two_known_people_keeping_everything(client: Client) -> None:
    await client.identify(
        userId="old-id", traits={"email": "old@example.com", "plan": "free", "legacy": 1}
    )
    await client.track(userId="old-id", event="Old Event")
    await client.identify(userId="new-id", anonymousId="anon-n", traits={"plan": "pro"})
    await client.track(userId="new-id", event="New Event")
    old_customer_id = (await client.customer("old-id")).profile.id

    await client.send("/v1/alias", {"previousId": "old-id", "userId": "new-id"})
    person = await client.customer("new-id")
    assert (await client.customer("old-id")).profile.id == person.profile.id
    assert (await client.customer(old_customer_id)).profile.id == person.profile.id
    assert await client.event_names("new-id") == [
        "New Event",
        "Old Event",
        "alias",
        "identify",
        "identify",
    ]
    assert person.profile.external_id == "new-id"
    assert person.profile.email == "old@example.com"
    assert person.profile.attributes == {"plan": "pro", "legacy": 1}
    assert {(USER, "old-id"), (USER, "new-id"), (ANON, "anon-n")} <= set(person.identities)


async def test_alias_at_the_short_path_links_an_anonymous_visitor(client: Client) -> None:
    await client.track(anonymousId="visitor-9", event="Browsed")
    visitor_id = (await client.customer("visitor-9")).profile.id
    await client.send("/v1/a", {"previousId": "visitor-9", "userId": "member-9"})
    person = await client.customer("member-9")
    assert person.profile.id == visitor_id
    assert person.profile.external_id == "member-9"
    assert await client.event_names("member-9") == ["Browsed", "alias"]


async def test_alias_of_an_unknown_previous_id_lets_later_calls_find_the_person(
    client: Client,
) -> None:
    await client.identify(userId="u1", traits={"plan": "pro"})
    await client.send("/v1/alias", {"previousId": "legacy-42", "userId": "u1"})
    await client.track(anonymousId="legacy-42", event="As Anonymous")
    await client.track(userId="legacy-42", event="As User")
    person = await client.customer("u1")
    assert (await client.customer("legacy-42")).profile.id == person.profile.id
    assert await client.event_names("u1") == ["As Anonymous", "As User", "alias", "identify"]


# -- groups ------------------------------------------------------------------------------


async def test_group_records_the_group_and_its_traits(client: Client) -> None:
    await client.send(
        "/v1/group",
        {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme", "employees": 50}},
    )
    await client.send("/v1/g", {"userId": "u1", "groupId": "beta", "traits": {"tier": "gold"}})
    await client.send(
        "/v1/group",
        {"userId": "u2", "groupId": "acme", "traits": {"employees": 60, "industry": None}},
    )
    first = await client.customer("u1")
    assert first.groups == [
        {"group_id": "acme", "traits": {"name": "Acme", "employees": 60}},
        {"group_id": "beta", "traits": {"tier": "gold"}},
    ]
    assert first.profile.attributes == {}  # group traits are the group's, not the person's
    second = await client.customer("u2")
    assert second.groups == [{"group_id": "acme", "traits": {"name": "Acme", "employees": 60}}]
    events = await client.events("u1")
    assert sorted(e["type"] for e in events) == ["group", "group"]


async def test_group_membership_follows_a_merge(client: Client) -> None:
    await client.send("/v1/group", {"anonymousId": "anon-g", "groupId": "acme"})
    await client.identify(userId="u1")
    await client.identify(userId="u1", anonymousId="anon-g")
    person = await client.customer("u1")
    assert [g["group_id"] for g in person.groups] == ["acme"]


async def test_alias_to_an_unknown_id_renames_the_person(client: Client) -> None:
    await client.identify(userId="email-login", traits={"plan": "pro"})
    customer_id = (await client.customer("email-login")).profile.id
    await client.send("/v1/alias", {"previousId": "email-login", "userId": "sso-7"})
    person = await client.customer("sso-7")
    assert person.profile.id == customer_id
    assert person.profile.external_id == "sso-7"
    assert person.profile.attributes == {"plan": "pro"}
    assert (await client.customer("email-login")).profile.id == customer_id
    await client.track(userId="email-login", event="Old Login")
    assert "Old Login" in await client.event_names("sso-7")


async def test_merges_chain_to_the_last_survivor(client: Client) -> None:
    await client.track(anonymousId="anon-c", event="Anonymous")
    anonymous_id = (await client.customer("anon-c")).profile.id
    await client.identify(userId="first")
    await client.identify(userId="first", anonymousId="anon-c")
    first_id = (await client.customer("first")).profile.id
    await client.identify(userId="second")
    await client.send("/v1/alias", {"previousId": "first", "userId": "second"})
    survivor = await client.customer("second")
    for ref in (anonymous_id, first_id, "anon-c", "first"):
        assert (await client.customer(ref)).profile.id == survivor.profile.id, ref
    assert "Anonymous" in await client.event_names("second")
