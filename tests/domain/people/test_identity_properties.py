"""Property test: whatever the sequence of calls, identity resolution keeps its invariants."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from patron.domain.tracking.messages import MessageType, build_message
from patron.services import open_services
from patron.settings import Settings
from patron.store.schema import customers, events, identities
from tests.conftest import make_workspace

USERS = st.sampled_from(["u1", "u2", "u3"])
ANONYMOUS = st.sampled_from(["a1", "a2", "a3"])


@st.composite
def calls(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["identify", "track", "alias"]))
    if kind == "alias":
        previous = draw(st.one_of(USERS, ANONYMOUS))
        return {"type": kind, "previousId": previous, "userId": draw(USERS)}
    call: dict[str, Any] = {"type": kind}
    user, anonymous = draw(st.one_of(st.none(), USERS)), draw(st.one_of(st.none(), ANONYMOUS))
    if user is None and anonymous is None:
        anonymous = "a1"
    call.update({k: v for k, v in (("userId", user), ("anonymousId", anonymous)) if v})
    if kind == "identify":
        call["traits"] = {draw(st.sampled_from(["plan", "email", "tier"])): draw(st.integers(0, 3))}
    else:
        call["event"] = "e"
    return call


def test_identity_invariants_hold_for_any_call_sequence(database_url: str) -> None:
    runner = asyncio.Runner()
    services = runner.run(open_services(Settings(database_url=database_url)))
    engine = create_engine(services.store.database.url)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(batches=st.lists(st.lists(calls(), min_size=1, max_size=4), min_size=1, max_size=5))
    def check(batches: list[list[dict[str, Any]]]) -> None:
        workspace = runner.run(make_workspace(services))
        sent = 0
        for batch in batches:
            messages = []
            for call in batch:
                built, problems = build_message(
                    MessageType(call["type"]), dict(call), received_at=datetime.now(UTC)
                )
                assert built is not None, problems
                messages.append(built)
            sent += len(messages)
            runner.run(services.tracking.ingest(workspace_id=workspace.id, messages=messages))
        with engine.connect() as connection:
            live = {
                row.id
                for row in connection.execute(
                    select(customers.c.id).where(
                        customers.c.workspace_id == workspace.id,
                        customers.c.merged_into.is_(None),
                    )
                )
            }
            owners = {
                (row.kind, row.value): row.customer_id
                for row in connection.execute(
                    select(identities).where(identities.c.workspace_id == workspace.id)
                )
            }
            stored = connection.execute(
                select(events).where(events.c.workspace_id == workspace.id)
            ).all()
        # Every event is kept, once, on a live profile; every identity points at one.
        assert len(stored) == sent
        assert all(event.customer_id in live for event in stored)
        assert set(owners.values()) <= live
        for event in stored:
            if event.type == "alias":
                continue
            if event.user_id is not None:
                # A person's events follow their userId through every merge.
                assert owners[("user_id", event.user_id)] == event.customer_id
            else:
                assert owners[("anonymous_id", event.anonymous_id)] == event.customer_id

    try:
        check()
    finally:
        engine.dispose()
        runner.run(services.close())
        runner.close()
