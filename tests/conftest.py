"""Shared fixtures: a database per test on SQLite and PostgreSQL, the app, workspaces.

PostgreSQL tests run against ``PATRON_TEST_POSTGRES_URL`` (default: the local
server at 127.0.0.1:5432). Each test session creates its own database there and
drops it at the end; each test starts from empty tables. When the server is
unreachable the tests skip with the reason, except in CI (``CI=true``), where
that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from patron.app import create_app
from patron.domain.tenancy.service import KeyKind
from patron.services import Services, open_services
from patron.settings import Settings
from patron.store.declared import metadata

POSTGRES_ADMIN_URL = os.environ.get(
    "PATRON_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where servers the tests start write a new default workspace's keys (not the work tree)."""
    folder = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATRON_KEYS_DIR", str(folder))  # servers in subprocesses inherit it
        yield folder


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of this test session's own on the PostgreSQL server, dropped at the end."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"patron_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # unreachable, refused, no rights
        admin.dispose()
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable: {error.__class__.__name__}"
        if IN_CI:
            pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [t.name for t in metadata.sorted_tables if _exists(connection, t.name)]
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _exists(connection: object, table: str) -> bool:
    return bool(connection.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar())  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patron.db'}"
    url: str = request.getfixturevalue("postgres_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, emptied (for tests about PostgreSQL only)."""
    _empty_postgres(postgres_database)
    return postgres_database


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, key_cache_seconds=0)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    opened = await open_services(settings)
    try:
        yield opened
    finally:
        await opened.close()


@dataclass(frozen=True)
class WorkspaceKeys:
    id: str
    name: str
    write_key: str
    keys: dict[str, str] = field(default_factory=dict)  # every key issued, by kind

    @property
    def app_headers(self) -> dict[str, str]:
        """The customers (Voucherify) API's credentials, as request headers."""
        return {
            "X-App-Id": self.keys[KeyKind.VOUCHERIFY_APP_ID],
            "X-App-Token": self.keys[KeyKind.VOUCHERIFY_APP_TOKEN],
        }


async def make_workspace(services: Services, name: str | None = None) -> WorkspaceKeys:
    issued = await services.workspaces.create(name=name or f"ws-{secrets.token_hex(4)}")
    return WorkspaceKeys(
        issued.workspace.id,
        issued.workspace.name,
        issued.keys[KeyKind.TRACKING_WRITE_KEY],
        dict(issued.keys),
    )


@pytest.fixture
async def app_services(settings: Settings) -> AsyncIterator[tuple[object, Services]]:
    """The real app with its lifespan running, and the services it built."""
    app = create_app(settings)
    async with app.api.router.lifespan_context(app.api):
        yield app, app.services


@pytest.fixture
async def api(app_services: tuple[object, Services]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (no sockets)."""
    app, _ = app_services
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://patron") as client:
        yield client


@pytest.fixture
async def workspace(app_services: tuple[object, Services]) -> WorkspaceKeys:
    """A fresh workspace in the running app, with its tracking write key."""
    return await make_workspace(app_services[1])
