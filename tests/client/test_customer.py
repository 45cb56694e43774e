"""The seed's usage against the real Patron app, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import patron
from patron.client import ClientClosed, Customer, RequestRejected, TrackingClient
from patron.services import Services
from tests.conftest import WorkspaceKeys

pytestmark = pytest.mark.anyio


async def events_of(stored: Services, workspace: WorkspaceKeys, ref: str) -> list[dict[str, Any]]:
    return await stored.customers.list_events(workspace_id=workspace.id, ref=ref, limit=1000)


async def test_a_customer_identifies_and_tracks_as_in_the_seed(
    tracking: TrackingClient, stored: Services, workspace: WorkspaceKeys
) -> None:
    customer = tracking.new_customer(user_id="user-1", traits={"email": "ada@example.com"})
    identified = customer.identify(traits={"email": "ada@example.com", "plan": "pro"})
    tracked = customer.track(
        "Order Completed",
        properties={"total": 42.5},
        context={"ip": "10.0.0.1"},
        integrations={"All": False},
        custom={"shop": "eu"},
        channel="web",  # a custom field given as a keyword argument
    )
    await identified  # the server has committed both
    await tracked

    view = await stored.customers.get(workspace_id=workspace.id, ref="user-1")
    assert view.profile.external_id == "user-1"
    assert view.profile.traits() == {"email": "ada@example.com", "plan": "pro"}
    events = await events_of(stored, workspace, "user-1")
    assert sorted(event["type"] for event in events) == ["identify", "track"]
    order = next(event for event in events if event["type"] == "track")
    assert order["name"] == "Order Completed"
    document = order["document"]
    assert document["properties"] == {"total": 42.5}
    assert (document["shop"], document["channel"]) == ("eu", "web")  # custom: top level
    assert document["integrations"] == {"All": False}
    assert document["context"]["ip"] == "10.0.0.1"
    assert document["context"]["library"] == {
        "name": "patron-client",
        "version": patron.__version__,
    }
    assert order["sent_at"] is not None
    assert len({event["message_id"] for event in events}) == 2


async def test_camel_case_names_work_like_snake_case(
    tracking: TrackingClient, stored: Services, workspace: WorkspaceKeys
) -> None:
    customer = Customer(api_client=tracking, userId="user-2", anonymousId="anon-2")
    assert (customer.user_id, customer.anonymous_id) == ("user-2", "anon-2")
    await customer.identify(userId="user-3", anonymousId="anon-3", traits={"plan": "pro"})
    assert (customer.user_id, customer.anonymous_id) == ("user-3", "anon-3")
    assert customer.traits == {"plan": "pro"}  # identify overwrites the object's attributes
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    await customer.track("Viewed", messageId="fixed-id", timestamp=when)
    await customer.track("Liked", timestamp="2026-01-02T03:04:05Z")

    events = await events_of(stored, workspace, "user-3")
    viewed = next(event for event in events if event["name"] == "Viewed")
    assert viewed["message_id"] == "fixed-id"
    assert viewed["original_timestamp"] == when
    assert (viewed["user_id"], viewed["anonymous_id"]) == ("user-3", "anon-3")
    liked = next(event for event in events if event["name"] == "Liked")
    assert liked["original_timestamp"] == when


async def test_identify_replaces_the_traits_the_object_sends(
    tracking: TrackingClient, stored: Services, workspace: WorkspaceKeys
) -> None:
    customer = tracking.new_customer(user_id="user-4", traits={"plan": "free"})
    await customer.identify()  # sends the object's traits
    await customer.identify(traits={"plan": "pro", "seats": 3})
    await customer.identify()  # sends the replaced traits again
    view = await stored.customers.get(workspace_id=workspace.id, ref="user-4")
    assert view.profile.traits() == {"plan": "pro", "seats": 3}
    events = await events_of(stored, workspace, "user-4")
    assert sorted(len(event["document"]["traits"]) for event in events) == [1, 2, 2]


async def test_every_call_type_lands(
    tracking: TrackingClient, stored: Services, workspace: WorkspaceKeys
) -> None:
    customer = tracking.new_customer(anonymous_id="visitor")
    await customer.page("Pricing", category="Docs", properties={"path": "/pricing"})
    await customer.screen("Settings")
    await customer.group("acme", traits={"plan": "gold"})
    await customer.alias("user-9")
    assert customer.user_id == "user-9"
    await tracking.track("Signed Up", userId="user-9")  # the low-level calls, on the client

    view = await stored.customers.get(workspace_id=workspace.id, ref="user-9")
    assert view.groups == [{"group_id": "acme", "traits": {"plan": "gold"}}]
    events = await events_of(stored, workspace, "user-9")
    kinds = sorted(event["type"] for event in events)
    assert kinds == ["alias", "group", "page", "screen", "track"]
    page = next(event for event in events if event["type"] == "page")
    assert (page["name"], page["document"]["category"]) == ("Pricing", "Docs")
    alias = next(event for event in events if event["type"] == "alias")
    assert alias["document"]["previousId"] == "visitor"


async def test_a_refused_message_fails_alone_and_its_neighbours_land(
    tracking: TrackingClient, stored: Services, workspace: WorkspaceKeys
) -> None:
    calls = [
        tracking.track("Fine", user_id="u1"),
        tracking.track("Refused", user_id="undefined"),  # a placeholder id Patron refuses
        tracking.track("Fine too", user_id="u2"),
    ]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert (outcomes[0], outcomes[2]) == (None, None)
    refused = outcomes[1]
    assert isinstance(refused, RequestRejected)
    assert (refused.status, refused.code) == (400, "invalid_request")
    assert [problem.field for problem in refused.problems] == ["userId"]
    assert "placeholder" in refused.problems[0].message
    assert len(await events_of(stored, workspace, "u1")) == 1
    assert len(await events_of(stored, workspace, "u2")) == 1


async def test_many_messages_land_across_batches(
    transport: httpx.AsyncBaseTransport, stored: Services, workspace: WorkspaceKeys
) -> None:
    async with TrackingClient(
        workspace.write_key, "http://patron", transport=transport, batch_size=40
    ) as client:
        customer = client.new_customer(user_id="busy")
        calls = [customer.track("Clicked", properties={"n": n}) for n in range(150)]
        await asyncio.gather(*calls)
    events = await events_of(stored, workspace, "busy")
    assert sorted(event["document"]["properties"]["n"] for event in events) == list(range(150))


async def test_closing_flushes_and_then_refuses(
    transport: httpx.AsyncBaseTransport, stored: Services, workspace: WorkspaceKeys
) -> None:
    client = TrackingClient(workspace.write_key, "http://patron", transport=transport)
    customer = client.new_customer(user_id="closer")
    queued = [customer.track("Queued") for _ in range(3)]
    await client.aclose()  # long before the 0.5 s flush interval has passed
    assert all(future.done() and future.exception() is None for future in queued)
    assert len(await events_of(stored, workspace, "closer")) == 3
    with pytest.raises(ClientClosed):
        customer.track("Late")


async def test_a_retried_batch_is_stored_once(
    transport: httpx.AsyncBaseTransport, stored: Services, workspace: WorkspaceKeys
) -> None:
    class LostAnswer(httpx.AsyncBaseTransport):
        """The server commits the first request, but its answer never arrives."""

        def __init__(self) -> None:
            self.requests = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.requests += 1
            response = await transport.handle_async_request(request)
            if self.requests == 1:
                await response.aclose()
                raise httpx.ReadTimeout("the answer was lost", request=request)
            return response

    lossy = LostAnswer()
    async with TrackingClient(
        workspace.write_key, "http://patron", transport=lossy, backoff_base=0.0001
    ) as client:
        await client.track("Paid", user_id="once")
    assert lossy.requests == 2
    assert len(await events_of(stored, workspace, "once")) == 1  # deduplicated by messageId


async def test_a_wrong_write_key_is_rejected(transport: httpx.AsyncBaseTransport) -> None:
    async with TrackingClient("not-a-key", "http://patron", transport=transport) as client:
        with pytest.raises(RequestRejected) as refused:
            await client.track("E", user_id="u1")
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert refused.value.problems == ()
