"""What the tracking HTTP tests share: posting, checking answers, counting what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from patron.domain.errors import NotFound
from patron.services import Services
from patron.store.schema import customers, events


async def post(api: httpx.AsyncClient, key: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(path, auth=(key, ""), json=body)


async def post_raw(
    api: httpx.AsyncClient,
    key: str,
    path: str,
    content: bytes | AsyncIterator[bytes],
    encoding: str | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    return await api.post(path, auth=(key, ""), content=content, headers=headers)


def assert_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"success": True}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An error in Segment's shape with this status and code; returns the body."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def assert_invalid(response: httpx.Response) -> list[dict[str, Any]]:
    """A 400 ``invalid_request``; returns its ``errors``, each ``{index, field, message}``."""
    errors = assert_error(response, 400, "invalid_request")["errors"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert set(error) == {"index", "field", "message"}
        assert isinstance(error["message"], str)
    return errors


def fields(errors: list[dict[str, Any]]) -> set[tuple[int | None, str | None]]:
    return {(error["index"], error["field"]) for error in errors}


async def count_rows(services: Services, workspace_id: str) -> tuple[int, int]:
    """(events, customers) stored for the workspace."""

    def work(unit: Any) -> tuple[int, int]:
        count = [
            unit.connection.scalar(
                select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id)
            )
            for table in (events, customers)
        ]
        return count[0], count[1]

    return await services.store.read(work)


async def assert_nothing_stored(services: Services, workspace_id: str) -> None:
    assert await count_rows(services, workspace_id) == (0, 0)


async def events_of(services: Services, workspace_id: str, ref: str) -> list[dict[str, Any]]:
    return await services.customers.list_events(workspace_id=workspace_id, ref=ref, limit=5000)


async def only_event(services: Services, workspace_id: str, ref: str) -> dict[str, Any]:
    found = await events_of(services, workspace_id, ref)
    assert len(found) == 1, found
    return found[0]


async def assert_no_customer(services: Services, workspace_id: str, ref: str) -> None:
    with pytest.raises(NotFound):
        await services.customers.get(workspace_id=workspace_id, ref=ref)
