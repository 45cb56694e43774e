"""SQLite's files tampered with under a running store: refused transactions, never SIGBUS.

See :mod:`patron.store.sqlite_files` for why a shrinking WAL index killed the
process, and what the store does instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from patron.domain.errors import Unavailable
from patron.services import open_services
from patron.settings import Settings
from patron.store.schema import events
from tests.chaos import scale
from tests.patron_logs import patron_records, said
from tests.patron_server import PATRON, Server, free_port, patron_cli, patron_env
from tests.patron_server import _wait_until_healthy as wait_until_healthy
from tests.store.wal_index_victim import tamper

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def _size(path: Path) -> int:
    return path.stat().st_size


@pytest.mark.parametrize("how", ["truncate", "overwrite"])
def test_a_shrunk_wal_index_is_rebuilt_instead_of_killing_the_process(
    tmp_path: Path, how: str
) -> None:
    database = tmp_path / "patron.db"
    victim = subprocess.run(
        [sys.executable, "-m", "tests.store.wal_index_victim", str(database), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert victim.returncode != -signal.SIGBUS, "SIGBUS:\n" + victim.stderr[-3000:]
    assert victim.returncode == 0, victim.stderr[-3000:]
    seen = json.loads(victim.stdout)
    assert seen["stored_after"] == [100, 100, 100]  # refused at first, then retried and stored
    assert seen["counted"] == seen["counted_after_reopening"] == 600  # nothing lost
    errors = [line for line in victim.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, victim.stderr
    shrank = re.search(
        rf"{re.escape(str(database))}-shm shrank from 32768 to (\d+) bytes", errors[0]
    )
    assert shrank is not None, errors[0]
    assert int(shrank[1]) < 32768  # (by the time the victim looked, the guard may have mended it)


@pytest.mark.skipif(sys.platform != "linux", reason="the guard's watcher uses inotify")
async def test_a_truncated_wal_index_is_given_back_its_size_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Without waiting for a transaction: a COMMIT waiting for its fsync would touch it next."""
    path = tmp_path / "patron.db"
    index = Path(f"{path}-shm")
    services = await open_services(Settings(database_url=f"sqlite:///{path}"))
    try:
        await services.workspaces.create(name="before")
        size = _size(index)
        with patron_records(caplog):
            os.truncate(index, 0)
            for _ in range(200):
                if _size(index) == size:
                    break
                await asyncio.sleep(0.01)
            assert _size(index) == size, "the guard did not give the index its size back"
            assert len(said(caplog)) == 1  # the shrink, logged at once
            found = await services.store.read(lambda unit: unit.get_workspace_by_name("before"))
        assert found is not None  # rebuilt from the WAL; nothing lost
        assert said(caplog, logging.INFO)[1:] == [
            f"WARNING: reset SQLite's WAL index {index}; SQLite rebuilds it from {path}-wal"
        ]
    finally:
        await services.close()


async def test_the_database_file_is_never_memory_mapped(tmp_path: Path) -> None:
    services = await open_services(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}"))
    try:
        for engine in (services.store.database.writer, services.store.database.reader):
            with engine.connect() as connection:
                assert connection.execute(text("PRAGMA mmap_size")).scalar() == 0
    finally:
        await services.close()


async def test_a_replaced_database_file_is_not_opened_beside_the_one_in_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A backup moved over the file: a new connection to it would reset the shared index."""
    path = tmp_path / "patron.db"
    services = await open_services(Settings(database_url=f"sqlite:///{path}"))
    try:
        workspace = await services.workspaces.create(name="before")
        index = Path(f"{path}-shm")
        size = _size(index)
        shutil.copy(path, tmp_path / "backup.db")
        os.replace(tmp_path / "backup.db", path)
        services.store.database.reader.dispose()  # the next read needs a new connection
        with patron_records(caplog):
            with pytest.raises(Unavailable):
                await services.store.read(lambda unit: unit.get_workspace_by_name("before"))
            with pytest.raises(Unavailable):
                await services.store.read(lambda unit: unit.get_workspace_by_name("before"))
        assert _size(index) == size  # not reset under the connections that map it
        assert said(caplog) == [  # once, however many reads it refuses
            f"ERROR: {path} was replaced while Patron had it open; Patron keeps the file it "
            "opened and refuses new connections to the new one (SQLite would reset the WAL "
            "index the open connections share); restart Patron to use the new file",
        ]
        # The writer keeps the connection it has: writes still go to the file it opened.
        assert (await services.workspaces.create(name="after")).workspace.name == "after"
        assert workspace.workspace.name == "before"
    finally:
        await services.close()


@contextmanager
def _server_logging_to(database_url: str, log: Path) -> Iterator[Server]:
    """``patron serve`` with its standard error in ``log`` (what an operator would read)."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(PATRON), "serve", "--port", str(port)],
            env=patron_env(database_url),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        wait_until_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


async def _send_batches(url: str, key: str, batches: int, acknowledged: set[str]) -> Counter[int]:
    """``batches`` batches of 50 events from 8 clients at once; the answers' statuses."""
    statuses: Counter[int] = Counter()

    async def client(number: int) -> None:
        async with httpx.AsyncClient(base_url=url, auth=(key, ""), timeout=30) as http:
            for batch in range(number, batches, 8):
                ids = [f"{batch}-{n}-{uuid.uuid4()}" for n in range(50)]
                calls = [
                    {"type": "track", "userId": f"u{n}", "event": "E", "messageId": m}
                    for n, m in enumerate(ids)
                ]
                response = await http.post("/v1/batch", json={"batch": calls})
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    acknowledged.update(ids)

    await asyncio.gather(*(client(number) for number in range(8)))
    return statuses


@pytest.mark.server
@pytest.mark.chaos
async def test_a_serving_patron_outlives_its_wal_index_being_truncated(tmp_path: Path) -> None:
    """The adversarial test's finding: SIGBUS, no log line, when -shm was damaged under load.

    Each round sends batches, then damages the index while the server is
    between transactions (a damage that lands inside one of SQLite's own calls
    cannot be caught; see patron.store.sqlite_files).
    """
    database = tmp_path / "patron.db"
    url = f"sqlite:///{database}"
    key = json.loads(patron_cli(url, "workspace", "create", "shop", "--json"))["credentials"][
        "tracking_write_key"
    ]
    acknowledged: set[str] = set()
    statuses: Counter[int] = Counter()
    rounds = scale(2, 30)
    with _server_logging_to(url, tmp_path / "server.log") as server:
        for round_ in range(rounds):
            statuses += await _send_batches(server.url, key, scale(16, 40), acknowledged)
            tamper(Path(f"{database}-shm"), "truncate" if round_ % 2 == 0 else "overwrite")
        statuses += await _send_batches(server.url, key, 16, acknowledged)
        assert server.process.poll() is None, "the server died"
    log = (tmp_path / "server.log").read_text()
    assert "Fatal Python error" not in log
    assert set(statuses) == {200}, statuses  # each refused transaction was retried and stored
    # Patron's text log lines: "<UTC time> <LEVEL> <logger>: <message>".
    errors = [line for line in log.splitlines() if line.split(" ", 2)[1:2] == ["ERROR"]]
    assert len(errors) == rounds, log[-3000:]  # one line per damage, naming the file
    assert all(f"{database}-shm shrank from " in line for line in errors)
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = set(connection.scalars(select(events.c.message_id)))
    engine.dispose()
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events were lost"
