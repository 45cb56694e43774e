"""An acknowledged event is never lost: SIGKILL the server mid-stream, then count."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, select

from patron.settings import Settings
from patron.store.schema import events
from tests.patron_server import patron_cli, running_server

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.chaos]

CLIENTS = 16
ACKNOWLEDGED_BEFORE_KILL = 2_000


async def send_until_refused(
    url: str, key: str, acknowledged: set[str], enough: asyncio.Event
) -> None:
    """Send single events and batches back to back; remember each one answered 200."""
    async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=10) as client:
        for round_ in range(100_000):
            ids = [str(uuid.uuid4()) for _ in range(1 if round_ % 2 else 20)]
            calls = [
                {"type": "track", "userId": f"u{i}", "event": "E", "messageId": m}
                for i, m in enumerate(ids)
            ]
            try:
                if len(calls) == 1:
                    response = await client.post("/v1/track", json=calls[0])
                else:
                    response = await client.post("/v1/batch", json={"batch": calls})
            except httpx.HTTPError:
                return  # the server is gone: what was in flight was never acknowledged
            if response.status_code == 200:
                acknowledged.update(ids)
                if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                    enough.set()


async def test_every_acknowledged_event_survives_a_kill(database_url: str) -> None:
    created = json.loads(patron_cli(database_url, "workspace", "create", "crash", "--json"))
    key = created["credentials"]["tracking_write_key"]
    acknowledged: set[str] = set()
    enough = asyncio.Event()
    with running_server(database_url) as server:
        senders = [
            asyncio.create_task(send_until_refused(server.url, key, acknowledged, enough))
            for _ in range(CLIENTS)
        ]
        await asyncio.wait_for(enough.wait(), timeout=120)
        server.kill()  # while requests are in flight
        await asyncio.gather(*senders)

    engine = create_engine(Settings(database_url=database_url).database_url)
    with engine.connect() as connection:
        stored = set(
            connection.scalars(
                select(events.c.message_id).where(events.c.workspace_id == created["id"])
            )
        )
    engine.dispose()
    lost = acknowledged - stored
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged events were lost"
