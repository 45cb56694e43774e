"""The client against the real Patron app, in-process (httpx's ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from patron.client import (
    ClientClosed,
    Customer,
    InvalidCall,
    MessageRejected,
    MessageTooLarge,
    TrackingClient,
)
from patron.services import Services
from tests.conftest import WorkspaceKeys

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(
    app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> AsyncIterator[TrackingClient]:
    transport = httpx.ASGITransport(app=app_services[0])  # type: ignore[arg-type]
    async with TrackingClient(
        workspace.write_key, "http://patron", transport=transport, flush_interval=0.01
    ) as tracking:
        yield tracking


@pytest.fixture
def services(app_services: tuple[object, Services]) -> Services:
    return app_services[1]


async def test_a_customer_identifies_and_tracks_as_in_the_seed(
    client: TrackingClient, services: Services, workspace: WorkspaceKeys
) -> None:
    customer = client.new_customer(user_id="user-1", traits={"email": "ada@example.com"})
    await customer.identify(traits={"email": "ada@example.com", "plan": "pro"})
    await customer.track("Order Completed", properties={"total": 42.5}, custom={"shop": "eu"})
    view = await services.customers.get(workspace_id=workspace.id, ref="user-1")
    assert view.profile.email == "ada@example.com"
    assert view.profile.attributes == {"plan": "pro"}
    events = await services.customers.list_events(workspace_id=workspace.id, ref="user-1", limit=9)
    track = events[0]
    assert track["name"] == "Order Completed"
    assert track["document"]["properties"] == {"total": 42.5}
    assert track["document"]["shop"] == "eu"  # custom fields travel at the top level
    assert track["document"]["context"]["library"]["name"] == "patron-client"
    assert track["sent_at"] is not None


async def test_camel_case_names_work_like_snake_case(
    client: TrackingClient, services: Services, workspace: WorkspaceKeys
) -> None:
    customer = Customer(api_client=client, userId="user-2", anonymousId="anon-2")
    assert (customer.user_id, customer.anonymous_id) == ("user-2", "anon-2")
    await customer.identify(userId="user-3", traits={"plan": "pro"})
    assert customer.user_id == "user-3"  # identify overwrites the object's attributes
    await customer.track("Viewed", messageId="fixed-id", timestamp=datetime(2026, 1, 2, tzinfo=UTC))
    events = await services.customers.list_events(workspace_id=workspace.id, ref="user-3", limit=9)
    viewed = next(event for event in events if event["type"] == "track")
    assert viewed["message_id"] == "fixed-id"
    assert viewed["original_timestamp"] == datetime(2026, 1, 2, tzinfo=UTC)
    assert viewed["anonymous_id"] == "anon-2"


async def test_every_call_type_lands(
    client: TrackingClient, services: Services, workspace: WorkspaceKeys
) -> None:
    customer = client.new_customer(anonymous_id="visitor")
    await customer.page("Home", properties={"path": "/"})
    await customer.screen("Settings")
    await customer.group("acme", traits={"plan": "gold"})
    await customer.alias("user-9")
    assert customer.user_id == "user-9"
    view = await services.customers.get(workspace_id=workspace.id, ref="user-9")
    assert view.groups == [{"group_id": "acme", "traits": {"plan": "gold"}}]
    events = await services.customers.list_events(workspace_id=workspace.id, ref="user-9", limit=9)
    assert sorted(event["type"] for event in events) == ["alias", "group", "page", "screen"]


async def test_a_server_refusal_fails_only_that_message(client: TrackingClient) -> None:
    good = client.track("Fine", user_id="u1")
    bad = client.track("Refused", user_id="undefined")  # a placeholder id Patron refuses
    also_good = client.track("Fine too", user_id="u2")
    await good
    await also_good
    with pytest.raises(MessageRejected) as refused:
        await bad
    assert refused.value.status == 400
    assert refused.value.code == "invalid_request"
    assert refused.value.field == "userId"


async def test_mistakes_are_refused_before_anything_is_sent(client: TrackingClient) -> None:
    customer = client.new_customer(user_id="u1")
    with pytest.raises(InvalidCall, match="event"):
        customer.track()
    with pytest.raises(InvalidCall, match="user_id"):
        client.identify(traits={"a": 1})
    with pytest.raises(InvalidCall, match="disagree"):
        client.track("E", user_id="a", userId="b")
    with pytest.raises(MessageTooLarge):
        customer.track("Huge", properties={"blob": "x" * 40_000})


async def test_closing_flushes_and_then_refuses(
    app_services: tuple[object, Services], workspace: WorkspaceKeys
) -> None:
    transport = httpx.ASGITransport(app=app_services[0])  # type: ignore[arg-type]
    tracking = TrackingClient(
        workspace.write_key, "http://patron", transport=transport, flush_interval=60
    )
    queued = [tracking.track("Queued", user_id="closer") for _ in range(3)]
    await tracking.aclose()
    assert all(future.done() and future.exception() is None for future in queued)
    with pytest.raises(ClientClosed):
        tracking.track("Late", user_id="closer")
    events = await app_services[1].customers.list_events(
        workspace_id=workspace.id, ref="closer", limit=9
    )
    assert len(events) == 3


async def test_a_wrong_write_key_is_rejected(app_services: tuple[object, Services]) -> None:
    transport = httpx.ASGITransport(app=app_services[0])  # type: ignore[arg-type]
    async with TrackingClient(
        "not-a-key", "http://patron", transport=transport, flush_interval=0.01
    ) as tracking:
        with pytest.raises(MessageRejected) as refused:
            await tracking.track("E", user_id="u1")
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
