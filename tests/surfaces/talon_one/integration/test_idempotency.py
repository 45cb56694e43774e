"""``Idempotency-Key`` on the Integration API's writes and the profile lock (409), in process
on both databases (the lock held by another connection: PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, text

from patron.app import create_app
from patron.domain.errors import Conflict
from patron.domain.promotions.idempotency import Answer, Idempotency, IdempotencyService
from patron.domain.promotions.locks import PROFILE_BUSY, profile_key
from patron.services import Services
from patron.settings import Settings
from patron.store.promotions.sessions import promotion_lock_number
from tests.conftest import make_workspace
from tests.surfaces.talon_one.support import raw_talon_error

pytestmark = pytest.mark.anyio


async def _shop(services: Services) -> tuple[dict[str, str], str]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    return {"Authorization": f"ApiKey-v1 {issued.integration_key}"}, workspace.id


async def test_a_retried_write_gets_the_first_answer(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    headers, _ = await _shop(app_services[1])
    keyed = {**headers, "Idempotency-Key": "profile-1"}
    first_body = {"attributes": {"tier": "gold"}, "responseContent": ["customerProfile"]}
    first = await api.put("/v2/customer_profiles/ada", json=first_body, headers=keyed)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    # Another change without a key, then the retry: the first answer, nothing written.
    other = {"attributes": {"tier": "silver"}, "responseContent": ["customerProfile"]}
    changed = await api.put("/v2/customer_profiles/ada", json=other, headers=headers)
    assert changed.json()["customerProfile"]["attributes"] == {"tier": "silver"}
    retry = await api.put("/v2/customer_profiles/ada", json=first_body, headers=keyed)
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["content-type"].startswith("application/json")
    now = await api.put("/v2/customer_profiles/ada", json={}, headers=headers)
    assert now.status_code == 200
    # The same key for another request: refused, whatever the endpoint.
    for method, path, body in (
        ("PUT", "/v2/customer_profiles/ada", other),
        ("PUT", "/v2/customer_profiles/bob", first_body),
        ("POST", "/v2/audiences", {"name": "VIP"}),
    ):
        refused = await api.request(method, path, json=body, headers=keyed)
        error = raw_talon_error(refused, 400)
        assert "another request" in str(error["errors"]), error
    # Keys are 1 to 255 characters.
    for bad in ("k" * 256, " "):
        long = await api.put(
            "/v2/customer_profiles/ada", json={}, headers={**headers, "Idempotency-Key": bad}
        )
        raw_talon_error(long, 400)


async def test_every_kind_of_write_replays(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    headers, workspace_id = await _shop(app_services[1])

    async def twice(method: str, path: str, key: str, body: object = None) -> httpx.Response:
        keyed = {**headers, "Idempotency-Key": key}
        first = await api.request(method, path, json=body, headers=keyed)
        again = await api.request(method, path, json=body, headers=keyed)
        assert first.status_code < 300, first.text
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers["idempotent-replayed"] == "true"
        return first

    made = await twice("POST", "/v2/audiences", "a1", {"name": "VIP"})
    audience_id = made.json()["id"]
    listed, count = await app_services[1].audiences.page(workspace_id)
    assert ([a.id for a in listed], count) == ([audience_id], 1)  # created once
    await twice("PUT", f"/v2/audiences/{audience_id}", "a2", {"name": "VIPs"})
    memberships = {
        "data": [{"action": "add", "profileIntegrationId": "c", "audienceId": audience_id}]
    }
    await twice("POST", "/v2/customer_audiences", "a3", memberships)
    bulk = {"customerProfiles": [{"integrationId": "d", "attributes": {"n": 1}}]}
    await twice("PUT", "/v2/customer_profiles", "p1", bulk)
    await twice("PUT", "/v1/customer_profiles/e", "p2", {"attributes": {"n": 2}})
    await twice("DELETE", f"/v2/audiences/{audience_id}/memberships", "a4")
    # A delete retried answers 204 again (not 404: it is the same request).
    await twice("DELETE", f"/v2/audiences/{audience_id}", "a5")
    gone = await api.delete(f"/v2/audiences/{audience_id}", headers=headers)
    raw_talon_error(gone, 404)
    await twice("DELETE", "/v1/customer_data/d", "c1")
    # An error is not kept: the key stays usable for the same request once it can succeed.
    keyed = {**headers, "Idempotency-Key": "late"}
    missing = await api.delete("/v1/customer_data/f", headers=keyed)
    raw_talon_error(missing, 404)
    await api.put("/v2/customer_profiles/f", json={}, headers=headers)
    assert (await api.delete("/v1/customer_data/f", headers=keyed)).status_code == 204


async def test_erasing_a_customer_erases_the_answers_carrying_it(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    headers, _ = await _shop(app_services[1])
    keyed = {**headers, "Idempotency-Key": "carry"}
    body = {"attributes": {"email": "ada@example.com"}, "responseContent": ["customerProfile"]}
    first = await api.put("/v2/customer_profiles/ada", json=body, headers=keyed)
    assert "ada@example.com" in first.text
    assert (await api.delete("/v1/customer_data/ada", headers=headers)).status_code == 204
    # The answer went with the customer: the retry runs again (a new customer).
    retry = await api.put("/v2/customer_profiles/ada", json=body, headers=keyed)
    assert retry.status_code == 200
    assert "idempotent-replayed" not in retry.headers


async def test_a_claimed_key_is_busy_until_settled_or_abandoned(services: Services) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    claims = IdempotencyService(services.store, clock=lambda: now[0])
    key = Idempotency("k", "digest")
    assert await claims.claim(1, key) is None
    with pytest.raises(Conflict):
        await claims.claim(1, key)  # the first request still runs
    now[0] += timedelta(seconds=61)
    assert await claims.claim(1, key) is None  # abandoned: run again
    await claims.settle(1, key, Answer(201, '{"id": 1}', ("ada",)))
    assert await claims.claim(1, key) == Answer(201, '{"id": 1}')
    now[0] += timedelta(hours=24, seconds=1)
    assert await claims.claim(1, key) is None  # expired: a new request
    await claims.settle(1, key, Answer(409, ""))  # an error: the claim goes
    assert await claims.claim(1, key) is None


@asynccontextmanager
async def _client(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    app = create_app(Settings(database_url=url, key_cache_seconds=0, talon_lock_wait_ms=50))
    async with app.api.router.lifespan_context(app.api):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://patron") as client:
            yield client, app.services


@pytest.mark.postgres
async def test_a_profile_another_transaction_is_updating_gets_409(postgres_url: str) -> None:
    async with _client(postgres_url) as (api, services):
        headers, workspace_id = await _shop(services)
        made = await api.post("/v2/audiences", json={"name": "VIP"}, headers=headers)
        audience = made.json()["id"]
        engine = create_engine(postgres_url)
        writes = [
            ("PUT", "/v2/customer_profiles/ada", {"attributes": {"a": 1}}),
            ("PUT", "/v1/customer_profiles/ada", {"attributes": {"a": 1}}),
            ("PUT", "/v2/customer_profiles", {"customerProfiles": [{"integrationId": "ada"}]}),
            (
                "POST",
                "/v2/customer_audiences",
                {
                    "data": [
                        {"action": "add", "profileIntegrationId": "ada", "audienceId": audience}
                    ]
                },
            ),
            ("POST", "/v2/events", {"profileId": "ada", "type": "viewed", "attributes": {}}),
        ]
        try:
            with engine.connect() as other, other.begin():
                number = promotion_lock_number(profile_key(workspace_id, "ada"))
                other.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})
                for method, path, body in writes:
                    busy = await api.request(method, path, json=body, headers=headers)
                    assert raw_talon_error(busy, 409)["message"] == PROFILE_BUSY, path
                # Another profile is not held up.
                free = await api.put("/v2/customer_profiles/bob", json={}, headers=headers)
                assert free.status_code == 200
            for method, path, body in writes[:4]:
                done = await api.request(method, path, json=body, headers=headers)
                assert done.status_code < 300, (path, done.text)
        finally:
            engine.dispose()
