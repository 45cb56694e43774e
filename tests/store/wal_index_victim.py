"""A Patron store whose WAL index is tampered with between transactions (run as a process).

``python -m tests.store.wal_index_victim DATABASE HOW`` stores events, damages
``DATABASE-shm`` the way HOW says, stores and reads more, and prints what it
saw as JSON. It runs in a process of its own because the failure it guards
against is SIGBUS, which would kill the test run itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from patron.domain.tracking.messages import MessageType, build_message
from patron.services import Services, open_services
from patron.settings import Settings


def _messages(prefix: str, count: int) -> list[object]:
    built = []
    for n in range(count):
        document = {"messageId": f"{prefix}-{n}", "userId": f"u{n % 7}", "event": "Seen"}
        message, problems = build_message(
            MessageType.TRACK, document, received_at=datetime.now(UTC)
        )
        assert message is not None, problems
        built.append(message)
    return built


def tamper(index: Path, how: str) -> int:
    """Damage the index; return its size now."""
    if how == "truncate":  # truncate -s 0
        os.truncate(index, 0)
    elif how == "overwrite":  # cp of a smaller file over it: the same file, rewritten
        index.write_bytes(b"\xff" * 100)
    else:
        raise ValueError(how)
    return index.stat().st_size


async def count(services: Services, workspace_id: str) -> int:
    stored = await services.store.read(
        lambda unit: unit.existing_message_ids(
            workspace_id, [f"{p}-{n}" for p in "ab" for n in range(300)]
        )
    )
    return len(stored)


async def main(database: Path, how: str) -> dict[str, object]:
    settings = Settings(database_url=f"sqlite:///{database}")
    services = await open_services(settings)
    seen: dict[str, object] = {}
    try:
        workspace = await services.workspaces.create(name="victim")
        ws = workspace.workspace.id
        for chunk in range(3):
            messages = _messages("a", 300)[chunk * 100 : (chunk + 1) * 100]
            await services.tracking.ingest(workspace_id=ws, messages=messages)
        seen["shm_after_tampering"] = tamper(Path(f"{database}-shm"), how)
        for chunk in range(3):
            messages = _messages("b", 300)[chunk * 100 : (chunk + 1) * 100]
            result = await services.tracking.ingest(workspace_id=ws, messages=messages)
            seen.setdefault("stored_after", []).append(result.stored)  # type: ignore[union-attr]
        seen["counted"] = await count(services, ws)
    finally:
        await services.close()
    reopened = await open_services(settings)
    try:
        seen["counted_after_reopening"] = await count(reopened, ws)
    finally:
        await reopened.close()
    return seen


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    print(json.dumps(asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))))
