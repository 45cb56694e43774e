"""What each call sends, and the mistakes refused before anything is sent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

import patron
from patron.client import InvalidCall, TrackingClient
from tests.client.support import URL, Server, client_for

pytestmark = pytest.mark.anyio


async def sent(call: str, *args: Any, **fields: Any) -> dict[str, Any]:
    """The message one client call sends."""
    server = Server()
    async with client_for(server) as client:
        await getattr(client, call)(*args, **fields)
    (batch,) = server.batches()
    (message,) = batch
    return message


async def test_the_client_sets_library_message_id_and_timestamp() -> None:
    message = await sent("track", "Clicked", user_id="u1", context={"ip": "10.0.0.1"})
    assert message["type"] == "track"
    assert message["event"] == "Clicked"
    assert message["userId"] == "u1"
    assert "anonymousId" not in message
    assert message["context"] == {
        "ip": "10.0.0.1",
        "library": {"name": "patron-client", "version": patron.__version__},
    }
    uuid.UUID(message["messageId"])
    assert datetime.fromisoformat(message["timestamp"]) <= datetime.now(UTC)


async def test_custom_fields_travel_at_the_top_level_and_never_replace_the_clients() -> None:
    message = await sent(
        "identify",
        anonymousId="a1",
        traits={"plan": "pro"},
        integrations={"All": True},
        custom={"shop": "eu", "type": "not-identify"},
        channel="server",
        messageId="m-1",
        ignored=None,
    )
    assert (message["shop"], message["channel"]) == ("eu", "server")
    assert (message["type"], message["messageId"]) == ("identify", "m-1")
    assert message["traits"] == {"plan": "pro"}
    assert message["integrations"] == {"All": True}
    assert "ignored" not in message
    assert "custom" not in message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05.000+00:00"),  # naive: UTC
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-02T03:04:05.000+02:00",
        ),
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
    ],
)
async def test_timestamps_are_iso_8601(value: object, text: str) -> None:
    assert (await sent("track", "E", user_id="u1", timestamp=value))["timestamp"] == text


async def test_each_call_type_has_its_own_fields() -> None:
    page = await sent("page", "Home", user_id="u1", category="Docs", properties={"path": "/"})
    assert (page["type"], page["name"], page["category"]) == ("page", "Home", "Docs")
    screen = await sent("screen", user_id="u1")  # a screen name is optional
    assert (screen["type"], "name" in screen) == ("screen", False)
    group = await sent("group", groupId="acme", user_id="u1", traits={"size": 9})
    assert (group["groupId"], group["traits"]) == ("acme", {"size": 9})
    alias = await sent("alias", "new", previousId="old")
    assert (alias["userId"], alias["previousId"]) == ("new", "old")
    alias = await sent("alias", previous_id="old", userId="new")
    assert (alias["userId"], alias["previousId"]) == ("new", "old")


async def test_values_json_lacks_travel_as_text() -> None:
    properties = {"total": Decimal("9.99"), "tags": {1}, 7: "int key", "id": uuid.UUID(int=1)}
    message = await sent("track", "Paid", user_id="u1", properties=properties)
    assert message["properties"] == {
        "total": "9.99",
        "tags": "{1}",
        "7": "int key",
        "id": "00000000-0000-0000-0000-000000000001",
    }


async def test_customer_calls_may_name_other_ids_for_that_call_only() -> None:
    server = Server()
    async with client_for(server) as client:
        customer = client.new_customer(user_id="u1", anonymous_id="a1")
        await customer.track("E", userId="u2")
        await customer.alias("u3", previous_id="a1")
        assert customer.user_id == "u3"
        await customer.track("E")
    (first,), (alias,), (last,) = server.batches()
    assert (first["userId"], first["anonymousId"]) == ("u2", "a1")
    assert (alias["userId"], alias["previousId"]) == ("u3", "a1")
    assert (last["userId"], last["anonymousId"]) == ("u3", "a1")


@pytest.mark.parametrize(
    ("call", "args", "fields", "complaint"),
    [
        ("track", (), {"user_id": "u1"}, "track needs an event name"),
        ("track", ("  ",), {"user_id": "u1"}, "track needs an event name"),
        ("track", ("E",), {}, "needs a user_id"),
        ("track", ("E",), {"user_id": "a", "userId": "b"}, "disagree"),
        ("track", ("E",), {"user_id": ["u1"]}, "user_id must be a string"),
        ("track", ("E",), {"user_id": "u1", "properties": [1]}, "properties must be a dict"),
        ("track", ("E",), {"user_id": "u1", "context": "web"}, "context must be a dict"),
        ("track", ("E",), {"user_id": "u1", "timestamp": "yesterday"}, "ISO-8601"),
        ("track", ("E",), {"user_id": "u1", "timestamp": 1.5}, "ISO-8601"),
        ("track", ("E",), {"user_id": "u1", "properties": {"x": "a\x00b"}}, "NUL"),
        ("track", ("E",), {"user_id": "u1", "properties": {"x": "\ud800"}}, "encoded"),
        ("group", (), {"user_id": "u1"}, "group needs a group_id"),
        ("alias", ("u1",), {}, "alias needs a previous_id"),
        ("alias", (), {"previous_id": "a1"}, "alias needs a previous_id"),
    ],
)
async def test_mistakes_are_refused_before_anything_is_sent(
    call: str, args: tuple[Any, ...], fields: dict[str, Any], complaint: str
) -> None:
    server = Server()
    async with client_for(server) as client:
        with pytest.raises(InvalidCall, match=complaint):
            getattr(client, call)(*args, **fields)
    assert server.requests == []


async def test_a_customer_refuses_what_it_does_not_know() -> None:
    async with client_for(Server()) as client:
        with pytest.raises(InvalidCall, match="unknown customer fields: email"):
            client.new_customer(user_id="u1", email="ada@example.com")
        with pytest.raises(InvalidCall, match="event"):
            client.new_customer(user_id="u1").track()


async def test_the_text_nul_is_not_a_nul_character() -> None:
    message = await sent("track", "E", user_id="u1", properties={"x": "\\u0000"})
    assert message["properties"] == {"x": "\\u0000"}


def test_a_client_may_be_made_before_its_event_loop_runs() -> None:
    server = Server()
    client = TrackingClient("key", URL, transport=httpx.MockTransport(server))

    async def use() -> None:
        async with client:
            await client.track("E", user_id="u1")

    asyncio.run(use())
    assert client.closed
    assert server.sizes() == [1]
