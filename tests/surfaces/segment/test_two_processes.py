"""Two ``patron serve`` processes on one PostgreSQL database, merging while tracking.

One process takes a stream of tracks for a few anonymous ids and userIds
while the other merges each of those profiles away (``identify`` of the
anonymous id with a known userId, ``alias`` of one known userId to another);
every track batch is also sent to both processes at once (the same
messageIds), as a client retrying on another host would. Whatever the
interleaving, an acknowledged event must end up exactly once on the profile
that survives, and every identity must point at a surviving profile.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.chaos import scale
from tests.patron_server import patron_cli, running_servers

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.server, pytest.mark.chaos]

ROUNDS = scale(4, 100)
IDS_PER_ROUND = scale(4, 8)  # few ids, hammered hard: every merge meets in-flight tracks
TRACKERS = 4  # concurrent clients streaming tracks
RETRIES = 20


class Sender:
    """Posts to one server; a call counts as acknowledged only when answered 200."""

    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=30)
        self.refused: list[int] = []

    async def post(self, path: str, body: dict[str, Any]) -> bool:
        for attempt in range(RETRIES):  # retry like the official clients do
            try:
                response = await self.client.post(path, json=body)
            except httpx.TransportError:
                await asyncio.sleep(0.05 * attempt)
                continue
            if response.status_code == 200:
                return True
            self.refused.append(response.status_code)
            if response.status_code not in (429, 503):
                return False
            await asyncio.sleep(0.05 * attempt)
        return False


class Round:
    """One round: ``IDS_PER_ROUND`` pairs of profiles, each pair merged while tracked."""

    def __init__(self, number: int) -> None:
        self.pairs = []
        for index in range(IDS_PER_ROUND):
            survivor = f"user-{number}-{index}"
            if index % 2:  # alias: two known people become one
                self.pairs.append(("alias", f"old-{number}-{index}", survivor))
            else:  # identify: an anonymous visitor turns out to be a known person
                self.pairs.append(("identify", f"anon-{number}-{index}", survivor))

    def seed(self) -> list[dict[str, Any]]:
        """Both profiles of every pair, before the race starts."""
        calls = []
        for kind, doomed, survivor in self.pairs:
            calls.append({"type": "identify", "userId": survivor, "messageId": _id()})
            if kind == "alias":
                calls.append({"type": "identify", "userId": doomed, "messageId": _id()})
            else:
                calls.append({"type": "track", "anonymousId": doomed, "event": "Seen"})
                calls[-1]["messageId"] = _id()
        return calls

    def tracks(self) -> list[dict[str, Any]]:
        """One track for the profile of every pair that is about to be merged away."""
        calls = []
        for kind, doomed, _ in self.pairs:
            if kind == "alias":  # a new device of the person: an identity linked to them
                who = {"userId": doomed, "anonymousId": f"device-{_id()}"}
            else:
                who = {"anonymousId": doomed}
            calls.append({"type": "track", "event": "Raced", "messageId": _id(), **who})
        return calls

    def merge(self, index: int) -> tuple[str, dict[str, Any]]:
        kind, doomed, survivor = self.pairs[index]
        if kind == "alias":
            return "/v1/alias", {"previousId": doomed, "userId": survivor, "messageId": _id()}
        body = {"anonymousId": doomed, "userId": survivor, "messageId": _id()}
        return "/v1/identify", body


def _id() -> str:
    return str(uuid.uuid4())


class Outcome:
    """What the servers acknowledged: messageIds, and merges (the doomed id, the survivor)."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.merges: list[tuple[str, str]] = []


async def run_round(number: int, tracking: Sender, merging: Sender, outcome: Outcome) -> None:
    race = Round(number)
    seed = race.seed()
    assert await tracking.post("/v1/batch", {"batch": seed})
    outcome.message_ids.extend(call["messageId"] for call in seed)
    merged = asyncio.Event()

    async def track() -> None:
        # Until every merge is answered, and a little after: the same batch to
        # both processes at once (stored once, acknowledged by both).
        extra = 3
        while extra:
            batch = race.tracks()
            answers = await asyncio.gather(
                tracking.post("/v1/batch", {"batch": batch}),
                merging.post("/v1/batch", {"batch": batch}),
            )
            assert all(answers), "a track batch was never acknowledged"
            outcome.message_ids.extend(call["messageId"] for call in batch)
            if merged.is_set():
                extra -= 1

    async def merge() -> None:
        for index in random.sample(range(IDS_PER_ROUND), IDS_PER_ROUND):
            await asyncio.sleep(random.uniform(0.002, 0.008))
            path, body = race.merge(index)
            assert await merging.post(path, body), f"{path} was never acknowledged"
            outcome.message_ids.append(body["messageId"])
            outcome.merges.append(race.pairs[index][1:])
        merged.set()

    await asyncio.gather(merge(), *(track() for _ in range(TRACKERS)))


def problems_in(url: str, workspace_id: str, outcome: Outcome) -> list[str]:
    """Every way the database disagrees with what was acknowledged."""
    engine = create_engine(url)
    params = {"w": workspace_id}
    with engine.connect() as connection:

        def count(sql: str) -> int:
            return int(connection.execute(text(sql), params).scalar_one())

        counts = {
            "events are on merged-away profiles": count(
                "SELECT count(*) FROM events e JOIN customers c ON c.id = e.customer_id "
                "WHERE e.workspace_id = :w AND c.merged_into IS NOT NULL"
            ),
            "events belong to no customer": count(
                "SELECT count(*) FROM events e LEFT JOIN customers c ON c.id = e.customer_id "
                "WHERE e.workspace_id = :w AND c.id IS NULL"
            ),
            "identities point at merged-away profiles": count(
                "SELECT count(*) FROM identities i JOIN customers c ON c.id = i.customer_id "
                "WHERE i.workspace_id = :w AND c.merged_into IS NOT NULL"
            ),
        }
        stored = dict(
            connection.execute(
                text("SELECT message_id, count(*) FROM events WHERE workspace_id = :w GROUP BY 1"),
                params,
            ).all()
        )
        owners = dict(
            connection.execute(
                text("SELECT value, customer_id FROM identities WHERE workspace_id = :w"), params
            ).all()
        )
    engine.dispose()
    counts["acknowledged events are lost"] = sum(m not in stored for m in outcome.message_ids)
    counts["messageIds are stored more than once"] = sum(n > 1 for n in stored.values())
    counts["merged ids still name another profile"] = sum(
        owners.get(doomed) != owners.get(survivor) for doomed, survivor in outcome.merges
    )
    return [f"{number} {what}" for what, number in counts.items() if number]


async def test_merges_in_one_process_keep_the_other_processes_events(postgres_url: str) -> None:
    created = json.loads(patron_cli(postgres_url, "workspace", "create", "race", "--json"))
    key = created["credentials"]["tracking_write_key"]
    outcome = Outcome()
    with running_servers(postgres_url, 2) as (first, second):
        tracking, merging = Sender(first.url, key), Sender(second.url, key)
        try:
            for number in range(ROUNDS):
                await run_round(number, tracking, merging, outcome)
        finally:
            await tracking.client.aclose()
            await merging.client.aclose()
    refused = tracking.refused + merging.refused
    assert all(status in (429, 503) for status in refused), f"refused: {refused}"
    assert outcome.merges
    problems = problems_in(postgres_url, created["id"], outcome)
    assert not problems, "; ".join(problems)
