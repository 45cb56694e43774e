"""Identities read before another process's merge committed: writes follow the merge.

A transaction reads identities first and writes later; on PostgreSQL another
process may merge one of the customers in between. The resolver holds the
customers it found and, for one that turns out merged away, uses the survivor.
Here the stale read is staged on both databases: an identity left pointing at
a profile marked merged (what that transaction's first read saw).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services
from patron.store.schema import customers, events, identities
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio


class Staged:
    def __init__(self, services: Services, workspace_id: str) -> None:
        self.services = services
        self.workspace_id = workspace_id
        self.engine = create_engine(services.store.database.url)  # beside the store's own

    async def send(self, type_: str, **document: Any) -> None:
        message, problems = build_message(
            MessageType(type_), document, received_at=datetime.now(UTC)
        )
        assert message is not None, problems
        await self.services.tracking.ingest(workspace_id=self.workspace_id, messages=[message])

    def owner(self, value: str) -> str:
        with self.engine.connect() as connection:
            query = select(identities.c.customer_id).where(
                identities.c.workspace_id == self.workspace_id, identities.c.value == value
            )
            return str(connection.execute(query).scalar_one())

    def mark_merged(self, source: str, target: str) -> None:
        """Mark ``source`` merged into ``target``, leaving its identities as they were."""
        with self.engine.begin() as connection:
            connection.execute(
                update(customers).where(customers.c.id == source).values(merged_into=target)
            )

    def customer_of(self, message_id: str) -> str:
        with self.engine.connect() as connection:
            query = select(events.c.customer_id).where(events.c.message_id == message_id)
            return str(connection.execute(query).scalar_one())


@pytest.fixture
async def staged(services: Services) -> AsyncIterator[Staged]:
    staging = Staged(services, (await make_workspace(services)).id)
    yield staging
    staging.engine.dispose()


async def test_a_track_goes_to_the_survivor_of_a_merge_it_did_not_see(staged: Staged) -> None:
    await staged.send("identify", userId="u1")
    await staged.send("track", anonymousId="a1", event="Seen")
    person, anonymous = staged.owner("u1"), staged.owner("a1")
    staged.mark_merged(anonymous, person)
    await staged.send("track", anonymousId="a1", event="Raced", messageId="m-raced")
    assert staged.customer_of("m-raced") == person
    await staged.send("identify", userId="u1", anonymousId="a1", messageId="m-again")
    assert staged.customer_of("m-again") == person


async def test_merges_are_followed_to_the_last_survivor(staged: Staged) -> None:
    for user in ("u1", "u2", "u3"):
        await staged.send("identify", userId=user)
    first, second, last = (staged.owner(user) for user in ("u1", "u2", "u3"))
    staged.mark_merged(first, second)
    staged.mark_merged(second, last)
    await staged.send("track", userId="u1", anonymousId="dev", event="E", messageId="m-chain")
    assert staged.customer_of("m-chain") == last
    assert staged.owner("dev") == last  # the new identity too


async def test_an_alias_of_a_merged_away_person_links_the_survivor(staged: Staged) -> None:
    await staged.send("identify", userId="u1")
    await staged.send("identify", userId="u2")
    staged.mark_merged(staged.owner("u1"), staged.owner("u2"))
    await staged.send("alias", previousId="u1", userId="u3", messageId="m-alias")
    assert staged.customer_of("m-alias") == staged.owner("u2")
    assert staged.owner("u3") == staged.owner("u2")
