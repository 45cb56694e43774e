"""What the fuzz of the Talon.One routes found (``tests/surfaces/test_fuzz.py``): each odd
request is a 4xx in Talon's format that points at what is wrong, and changes nothing.

In-process (no server): the app with its lifespan, on both databases.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patron.domain.promotions.campaign_records import CampaignRecord
from patron.domain.promotions.loyalty import Program
from patron.services import Services
from tests.conftest import make_workspace
from tests.surfaces.serving import crash_then_continue, fail
from tests.surfaces.talon_one.support import error_body

pytestmark = pytest.mark.anyio

LATE = "9999-12-31T23:59:59-23:59"  # after 9999 in UTC
EARLY = "0001-01-01T00:00:00+23:59"  # before year 1 in UTC
DEEP: Any = "x"
for _ in range(150):
    DEEP = {"a": [DEEP]}


@pytest.fixture
async def shop(app_services: tuple[object, Services]) -> dict[str, Any]:
    services = app_services[1]
    workspace = await make_workspace(services)
    issued = await services.applications.create(workspace=workspace.name, name="Shop")
    application = issued.application.id
    campaign = await services.campaigns.create(
        workspace.id, CampaignRecord(0, application, "Sale", features=("coupons",))
    )
    program = await services.loyalty.create(
        workspace=workspace.name,
        program=Program(0, "", "points", "Points", subscribed_applications=(application,)),
    )
    return {
        "integration": {"Authorization": f"ApiKey-v1 {issued.integration_key}"},
        "management": {"Authorization": f"ManagementKey-v1 {issued.management_key}"},
        "campaigns": f"/v1/applications/{application}/campaigns",
        "campaign": f"/v1/applications/{application}/campaigns/{campaign.id}",
        "program": program.id,
    }


def refused(response: httpx.Response, status: int, place: dict[str, str]) -> None:
    assert response.status_code == status, (response.request.content[:200], response.text)
    body = error_body(response.json(), status)
    assert place in [item["source"] for item in body["errors"]], body


COUPONS = "{campaign}/coupons"
SESSION = "/v2/customer_sessions/s1"
STATE = "/customerSession/state"
ONE = {"numberOfCoupons": 1, "usageLimit": 0}
# (method, path and query, body, where the error points)
CASES: list[tuple[str, str, Any, dict[str, str]]] = [
    # A moment UTC cannot hold (year 10000 or 0 once the offset is taken off).
    ("PUT", f"{SESSION}?dry=true&now={LATE}", {"customerSession": {}}, {"parameter": "now"}),
    ("GET", f"{COUPONS}/no_total?createdBefore={EARLY}", None, {"parameter": "createdBefore"}),
    ("GET", f"{COUPONS}/no_total?startsAfter={LATE}", None, {"parameter": "startsAfter"}),
    ("POST", COUPONS, {**ONE, "expiryDate": LATE}, {"pointer": "/expiryDate"}),
    ("POST", COUPONS, {**ONE, "startDate": EARLY}, {"pointer": "/startDate"}),
    # Nested deeper than what keeps and digests a body takes.
    ("PUT", "/v2/customer_sessions/s1", {"customerSession": {}, "x": DEEP}, {"pointer": ""}),
    ("PUT", "/v1/customer_sessions/s1", {"responseContent": DEEP}, {"pointer": ""}),
    ("POST", "/v2/events", {"profileId": "ada", "type": "e", "attributes": DEEP}, {"pointer": ""}),
    # A state that is not a string (an object cannot even be looked up).
    ("PUT", SESSION, {"customerSession": {"state": {"a": 1}}}, {"pointer": STATE}),
    ("PUT", SESSION, {"customerSession": {"state": ["open"]}}, {"pointer": STATE}),
    (
        "PUT",
        "/v2/customer_profiles/ada",
        {"responseContent": [{"a": 1}]},
        {"pointer": "/responseContent"},
    ),
    (
        "POST",
        "{campaigns}",
        {"name": "odd", "limits": [{"action": {"a": 1}, "limit": 1}]},
        {"pointer": "/limits/0"},
    ),
    # Longer or larger than the columns that keep them.
    ("POST", "/v2/events", {"profileId": "x" * 1001, "type": "e"}, {"pointer": "/profileId"}),
    (
        "PUT",
        "/v2/customer_profiles/ada",
        {"audiencesChanges": {"adds": [2**40]}},
        {"pointer": "/audiencesChanges/adds/0"},
    ),
    (
        "PUT",
        "/v1/loyalty_programs/{program}/profile/ada/add_points",
        {"points": 1, "applicationId": 2**40},
        {"pointer": "/applicationId"},
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case[0]} {case[1][:40]}")
async def test_odd_input_is_a_4xx_that_points_at_it(
    api: httpx.AsyncClient, shop: dict[str, Any], case: tuple[str, str, Any, dict[str, str]]
) -> None:
    method, path, body, place = case
    url = path.format(**shop).replace("+", "%2B")
    surface = "management" if url.startswith(("/v1/app", "/v1/loyalty")) else "integration"
    response = await api.request(method, url, json=body, headers=shop[surface])
    refused(response, 400, place)


async def test_refused_points_change_nothing(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    base = f"/v1/loyalty_programs/{shop['program']}/profile/ada"
    added = await api.put(f"{base}/add_points", json={"points": 5}, headers=shop["management"])
    assert added.status_code == 204, added.text
    for body in ({"points": 1, "applicationId": 2**40}, {"points": 1, "x": DEEP}):
        response = await api.put(f"{base}/add_points", json=body, headers=shop["management"])
        assert response.status_code == 400, response.text
    ledger = await api.get(base, headers=shop["management"])
    assert ledger.json()["ledger"]["totalActivePoints"] == 5


async def test_unknown_routes_and_methods_answer_in_talons_format(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    """Both apps: 404 for a path neither has, 405 for a method a path does not take."""
    calls = [
        ("integration", "GET", "/v2/nothing", 404),
        ("integration", "GET", "/v2/customer_sessions/s1", 405),
        ("integration", "PATCH", "/v2/events", 405),
        ("management", "GET", "/v1/applications/1/nothing", 404),
        ("management", "PATCH", shop["campaign"], 405),
        ("management", "DELETE", "/v1/attributes", 405),
    ]
    for surface, method, path, status in calls:
        response = await api.request(method, path, headers=shop[surface])
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"] == "application/json"
        error_body(response.json(), status)


@pytest.mark.parametrize("surface", ["integration", "management"])
async def test_an_unexpected_error_is_a_500_in_talons_format_on_a_kept_connection(
    app_services: tuple[object, Services],
    shop: dict[str, Any],
    surface: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app, services = app_services
    headers = shop[surface]
    if surface == "integration":
        monkeypatch.setattr(services.audiences, "create", fail)
        path, after = "/v2/audiences", "/v2/audiences/999"
    else:
        monkeypatch.setattr(services.campaigns, "search", fail)
        path, after = shop["campaign"].rpartition("/")[0], shop["campaign"]
    crash = await crash_then_continue(
        app,
        caplog,
        lambda client: client.request(
            "POST" if surface == "integration" else "GET", path, json={"name": "a"}, headers=headers
        ),
        lambda client: client.request(
            "PUT" if surface == "integration" else "GET", after, json={"name": "b"}, headers=headers
        ),
    )
    body = error_body(crash.failed.json(), 500)
    assert body["requestId"] == crash.request_id
