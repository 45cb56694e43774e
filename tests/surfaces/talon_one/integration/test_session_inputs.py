"""Odd input to the session and event endpoints, in process on both databases: always a 4xx
in Talon's format (never a 500), and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.services import Services
from tests.conftest import make_workspace
from tests.surfaces.talon_one.support import raw_talon_error

pytestmark = pytest.mark.anyio

ODD_SESSIONS: list[Any] = [
    {"customerSession": {"cartItems": [{"sku": "a", "quantity": 1, "price": 1e300}]}},
    {"customerSession": {"cartItems": [{"sku": "a", "quantity": 1, "price": -1}]}},
    {"customerSession": {"cartItems": [{"sku": "a", "quantity": 1.5}]}},
    {"customerSession": {"cartItems": [{"sku": "a", "quantity": True}]}},
    {"customerSession": {"cartItems": "all of them"}},
    {"customerSession": {"additionalCosts": {"ship": {"price": "1"}}}},
    {"customerSession": {"additionalCosts": {"ship": 3}}},
    {"customerSession": {"couponCodes": [1, None]}},
    {"customerSession": {"referralCode": "R" * 101}},
    {"customerSession": {"profileId": "p" * 1001}},
    {"customerSession": {"state": "reopened"}},
    {"customerSession": {"evaluableCampaignIds": ["1"]}},
    {"customerSession": []},
    {"responseContent": ["customerSession"]},
]


async def integration_headers(services: Services) -> dict[str, str]:
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    return {"Authorization": f"ApiKey-v1 {issued.integration_key}"}


async def test_odd_sessions_are_refused(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    headers = await integration_headers(app_services[1])
    for body in ODD_SESSIONS:
        answer = await api.put("/v2/customer_sessions/s", json=body, headers=headers)
        raw_talon_error(answer, 400)
    for query in ("now=yesterday", "dry=maybe", "now=2020-01-01T00:00:00Z&dry=true"):
        answer = await api.put(
            f"/v2/customer_sessions/s?{query}", json={"customerSession": {}}, headers=headers
        )
        raw_talon_error(answer, 400)
    long_id = "s" * 1001
    answer = await api.put(
        f"/v2/customer_sessions/{long_id}", json={"customerSession": {}}, headers=headers
    )
    raw_talon_error(answer, 400)
    answer = await api.put(
        "/v2/customer_sessions/s",
        json={"customerSession": {}},
        headers={**headers, "Idempotency-Key": "k" * 256},
    )
    raw_talon_error(answer, 400)
    # Nothing was stored by any of them: the first real update creates the session.
    made = await api.put(
        "/v2/customer_sessions/s",
        json={"customerSession": {}, "responseContent": ["customerSession", "event"]},
        headers=headers,
    )
    assert made.status_code == 200, made.text
    assert made.json()["customerSession"]["updateCount"] == 1
    assert made.json()["event"]["type"] == "talon_session_created"
    assert made.json()["customerSession"]["id"] > 0


async def test_odd_events_are_refused(
    api: httpx.AsyncClient, app_services: tuple[object, Services]
) -> None:
    headers = await integration_headers(app_services[1])
    odd: list[Any] = [
        {"profileId": "p"},
        {"type": "", "profileId": "p"},
        {"type": "x", "profileId": ""},
        {"type": "x", "profileId": "p", "attributes": []},
        {"type": "x", "profileId": "p", "evaluableCampaignIds": "1"},
        {"type": "talon_session_closed", "profileId": "p"},
    ]
    for body in odd:
        raw_talon_error(await api.post("/v2/events", json=body, headers=headers), 400)
    raw_talon_error(
        await api.post(
            "/v2/events?silent=perhaps", json={"type": "x", "profileId": "p"}, headers=headers
        ),
        400,
    )
    raw_talon_error(
        await api.post("/v1/events", json={"type": "x", "attributes": {}}, headers=headers), 400
    )
    ok = await api.post(
        "/v2/events?dry=True", json={"type": "x", "profileId": "p"}, headers=headers
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"effects": [], "createdCoupons": [], "createdReferrals": []}
    unauthorized = await api.post("/v2/events", json={"type": "x", "profileId": "p"})
    raw_talon_error(unauthorized, 401)
