"""A PostgreSQL server that is not there yet at start-up is waited for, within a bound.

Waited for: a server that refuses connections (not started, restarting), one
that is starting up, and a database that does not exist *yet* (created by
another container or job a moment later); each attempt is logged at WARNING,
without the URL's password. After ``PATRON_DATABASE_STARTUP_TIMEOUT`` seconds
Patron gives up with one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import subprocess
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from patron.services import open_services
from patron.settings import Settings
from patron.store.database import DatabaseUnreachable
from tests.conftest import POSTGRES_ADMIN_URL
from tests.patron_logs import patron_records, said
from tests.patron_server import PATRON, free_port

pytestmark = pytest.mark.anyio

PASSWORD = "s3cret-never-logged"


def _nowhere() -> str:
    return f"postgresql://patron:{PASSWORD}@127.0.0.1:{free_port()}/patron"


async def test_a_database_that_never_comes_is_given_up_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(database_url=_nowhere(), database_startup_timeout=1.5)
    with patron_records(caplog), pytest.raises(DatabaseUnreachable) as raised:
        await open_services(settings)
    attempts = said(caplog)
    assert len(attempts) >= 2, attempts
    assert all(
        line.startswith("WARNING: the PostgreSQL database patron at 127.0.0.1:")
        for line in attempts
    )
    assert all("is not reachable yet (OperationalError: " in line for line in attempts)
    assert "is not reachable after 1.5 s (OperationalError: " in raised.value.message
    assert PASSWORD not in raised.value.message
    assert not any(PASSWORD in record.getMessage() for record in caplog.records)


@pytest.mark.server
def test_patron_serve_without_its_database_exits_with_one_line() -> None:
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": _nowhere(),
        "PATRON_DATABASE_STARTUP_TIMEOUT": "1",
    }
    served = subprocess.run(
        [str(PATRON), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert served.returncode == 1
    lines = served.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the PostgreSQL database patron at 127.0.0.1:"), lines
    assert "is not reachable after 1 s" in lines[-1]
    assert all("not reachable yet" in line for line in lines[:-1]), lines
    assert "Traceback" not in served.stderr
    assert PASSWORD not in served.stderr


@contextlib.asynccontextmanager
async def _proxy_to_postgres(port: int) -> AsyncIterator[None]:
    """A TCP proxy on ``port`` to the test PostgreSQL server: the database 'coming up'."""
    target = make_url(POSTGRES_ADMIN_URL)
    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(target.host, target.port or 5432)
        writers.extend((client_w, server_w))
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await server.wait_closed()


@pytest.mark.postgres
async def test_a_server_that_comes_up_during_the_wait_is_used(
    postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    url = make_url(postgres_database).set(host="127.0.0.1", port=port)
    settings = Settings(database_url=url.render_as_string(hide_password=False))
    started = asyncio.Event()

    async def come_up_later() -> None:
        await asyncio.sleep(1.2)
        async with _proxy_to_postgres(port):
            started.set()
            await asyncio.Event().wait()  # until cancelled

    proxy = asyncio.create_task(come_up_later())
    try:
        with patron_records(caplog):
            services = await open_services(settings)
        try:
            assert started.is_set()
            assert await services.store.read(lambda unit: 1) == 1
        finally:
            await services.close()
    finally:
        proxy.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await proxy
    waited = said(caplog)
    assert waited, "no attempt was logged"
    assert all("is not reachable yet" in line for line in waited), waited


@pytest.mark.postgres
async def test_a_database_created_during_the_wait_is_used(
    postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A database another container or job creates a moment later is 'not there yet'."""
    name = f"patron_test_late_{secrets.token_hex(4)}"
    url = make_url(postgres_database).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def create() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))

    async def create_later() -> None:
        await asyncio.sleep(1.2)
        await asyncio.to_thread(create)

    creating = asyncio.create_task(create_later())
    try:
        with patron_records(caplog):
            services = await open_services(Settings(database_url=url))
        try:
            workspace = await services.workspaces.create(name="late")  # migrated
            assert workspace.workspace.name == "late"
        finally:
            await services.close()
        await creating
        waited = said(caplog, logging.WARNING)
        assert waited
        assert all(f'database "{name}" does not exist' in line for line in waited), waited
    finally:
        creating.cancel()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
