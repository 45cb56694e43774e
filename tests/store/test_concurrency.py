"""Two Patron processes writing one workspace at once (here: two service stacks).

They race to create the same customers; racing identity inserts must be
retried, not surface as errors, and every userId must end up on one profile.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from patron.domain.tracking.messages import MessageType, build_message
from patron.services import open_services
from patron.settings import Settings
from patron.store.schema import customers, events, identities
from tests.conftest import make_workspace

pytestmark = pytest.mark.anyio

USERS = 40


def calls(round_: int, process: int) -> list:
    built = []
    for user in range(USERS):
        document = {
            "userId": f"u{user}",
            "anonymousId": f"a{user}-{process}",
            "event": "Raced",
            "messageId": f"m{round_}-{process}-{user}",
        }
        message, problems = build_message(
            MessageType.TRACK, document, received_at=datetime.now(UTC)
        )
        assert message is not None, problems
        built.append(message)
    return built


async def test_two_processes_creating_the_same_customers(database_url: str) -> None:
    first = await open_services(Settings(database_url=database_url))
    second = await open_services(Settings(database_url=database_url, commit_batch_limit=7))
    try:
        workspace = await make_workspace(first)

        async def hammer(services, process: int) -> None:
            for round_ in range(5):
                batch = calls(round_, process)
                await asyncio.gather(
                    *(
                        services.tracking.ingest(workspace_id=workspace.id, messages=[message])
                        for message in batch
                    )
                )

        await asyncio.gather(hammer(first, 1), hammer(second, 2))
    finally:
        await first.close()
        await second.close()

    engine = create_engine(first.store.database.url)
    with engine.connect() as connection:
        stored = connection.scalar(
            select(func.count()).select_from(events).where(events.c.workspace_id == workspace.id)
        )
        people = connection.execute(
            select(identities.c.value, identities.c.customer_id).where(
                identities.c.workspace_id == workspace.id, identities.c.kind == "user_id"
            )
        ).all()
        live = connection.scalar(
            select(func.count())
            .select_from(customers)
            .where(customers.c.workspace_id == workspace.id, customers.c.merged_into.is_(None))
        )
    engine.dispose()
    assert stored == 2 * 5 * USERS
    assert len(people) == USERS
    assert live == USERS  # every racing profile was merged or never created
