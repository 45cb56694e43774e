"""An acknowledged event is never lost, nor stored twice: SIGKILL the server mid-stream, count.

Each cycle starts ``patron serve``, lets concurrent clients send single events
and batches until enough are acknowledged, and kills the server while requests
are in flight. Then one more server takes every message that was ever sent
again — as a client retrying after a crash would — and the database must hold
each acknowledged message, each message at most once, and nothing never sent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from patron.settings import Settings
from patron.store.schema import events
from tests.chaos import scale
from tests.patron_server import patron_cli, running_server

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.chaos]

CLIENTS = 16
ACKNOWLEDGED_PER_CYCLE = 2_000
CYCLES = scale(1, 12)


def _calls(ids: list[str]) -> list[dict[str, str]]:
    return [
        {"type": "track", "userId": f"u{i % 50}", "event": "E", "messageId": m}
        for i, m in enumerate(ids)
    ]


@dataclass
class Tally:
    """Every message id sent (in order) and those answered 200."""

    sent: list[str] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)


async def send_until_refused(
    url: str, key: str, tally: Tally, enough: asyncio.Event, target: int
) -> None:
    """Send single events and batches back to back; remember each one answered 200."""
    async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=10) as client:
        for round_ in range(100_000):
            ids = [str(uuid.uuid4()) for _ in range(1 if round_ % 2 else 20)]
            tally.sent.extend(ids)
            calls = _calls(ids)
            try:
                if len(calls) == 1:
                    response = await client.post("/v1/track", json=calls[0])
                else:
                    response = await client.post("/v1/batch", json={"batch": calls})
            except httpx.HTTPError:
                return  # the server is gone: what was in flight was never acknowledged
            if response.status_code == 200:
                tally.acknowledged.update(ids)
                if len(tally.acknowledged) >= target:
                    enough.set()


async def kill_under_load(database_url: str, key: str, tally: Tally) -> None:
    enough = asyncio.Event()
    target = len(tally.acknowledged) + ACKNOWLEDGED_PER_CYCLE
    with running_server(database_url) as server:
        senders = [
            asyncio.create_task(send_until_refused(server.url, key, tally, enough, target))
            for _ in range(CLIENTS)
        ]
        await asyncio.wait_for(enough.wait(), timeout=120)
        server.kill()  # while requests are in flight
        await asyncio.gather(*senders)


async def resend_everything(database_url: str, key: str, sent: list[str]) -> None:
    """What a client does after a crash: send again what it is not sure of — here, all."""
    with running_server(database_url) as server:
        async with httpx.AsyncClient(base_url=server.url, auth=(key, ""), timeout=30) as client:
            for start in range(0, len(sent), 100):
                batch = _calls(sent[start : start + 100])
                response = await client.post("/v1/batch", json={"batch": batch})
                assert response.status_code == 200, response.text


async def test_acknowledged_events_survive_kills_exactly_once(database_url: str) -> None:
    created = json.loads(patron_cli(database_url, "workspace", "create", "crash", "--json"))
    key = created["credentials"]["tracking_write_key"]
    tally = Tally()
    for _ in range(CYCLES):
        await kill_under_load(database_url, key, tally)
    engine = create_engine(Settings(database_url=database_url).database_url)
    with engine.connect() as connection:
        stored_before_resend = set(
            connection.scalars(
                select(events.c.message_id).where(events.c.workspace_id == created["id"])
            )
        )
    lost = tally.acknowledged - stored_before_resend
    assert not lost, f"{len(lost)} of {len(tally.acknowledged)} acknowledged events were lost"

    await resend_everything(database_url, key, tally.sent)
    with engine.connect() as connection:
        copies: dict[str, int] = dict(
            connection.execute(
                select(events.c.message_id, func.count())
                .where(events.c.workspace_id == created["id"])
                .group_by(events.c.message_id)
            ).all()
        )
    engine.dispose()
    duplicated = {message for message, count in copies.items() if count > 1}
    assert not duplicated, f"{len(duplicated)} messages were stored more than once"
    assert set(copies) == set(tally.sent), "every message sent is stored once, and nothing else"
