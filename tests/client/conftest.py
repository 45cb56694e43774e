"""Fixtures of the client tests: a client of the real app, in-process, and its services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from patron.client import TrackingClient
from patron.services import Services
from tests.conftest import WorkspaceKeys


@pytest.fixture
def transport(app_services: tuple[object, Services]) -> httpx.AsyncBaseTransport:
    """The real Patron app (lifespan running), reached without sockets."""
    return httpx.ASGITransport(app=app_services[0])  # type: ignore[arg-type]


@pytest.fixture
def stored(app_services: tuple[object, Services]) -> Services:
    """The running app's services, to read what landed."""
    return app_services[1]


@pytest.fixture
async def tracking(
    transport: httpx.AsyncBaseTransport, workspace: WorkspaceKeys
) -> AsyncIterator[TrackingClient]:
    """A client of the real app with the workspace's write key and quick batching."""
    async with TrackingClient(
        workspace.write_key, "http://patron", transport=transport, flush_interval=0.001
    ) as client:
        yield client
