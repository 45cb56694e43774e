"""Every route of every surface, fuzzed over one keep-alive connection to a real server.

Generated requests (``fuzzing.py``) — mostly valid ones with one place made
odd, so that handlers and the code behind them are reached, the rest anything
at all — on SQLite and on PostgreSQL, with a record of each kind to name.
Whatever is sent:

* the answer is never a 5xx (bad input is the client's fault: a 4xx);
* the connection stays open (a probe after each request comes on the same one);
* every error is in the format of the surface that owns the path;
* nothing is logged at ERROR, not even by the background jobs it submits.

Sized by ``tests/chaos.py:scale``; the long run prints what it sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings

from patron.app import PatronApp, create_app
from patron.domain.promotions.loyalty import Program
from patron.services import open_services
from patron.settings import Settings
from tests.chaos import scale
from tests.surfaces.fuzz_documents import NEW_CAMPAIGN, RULES, SESSION, TALON_LOGIN, Known, resolved
from tests.surfaces.fuzzing import (
    CREDENTIALS,
    ERROR_SHAPES,
    FuzzRequest,
    Tenant,
    requests,
    routes,
    surfaces,
    targets,
)
from tests.surfaces.serving import serving_in_thread

pytestmark = pytest.mark.chaos


@dataclass
class Tally:
    routes: set[str]
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    succeeded: set[tuple[str, str]] = field(default_factory=set)  # (method, route) with a 2xx
    failures: list[str] = field(default_factory=list)

    def count(self, request: FuzzRequest, status: int) -> None:
        self.statuses[status] += 1
        if status < 300:
            self.succeeded.add((request.method, request.route.path))

    def summary(self, database: str) -> str:
        by_class = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        reached = {path for _, path in self.succeeded}
        missed = sorted(self.routes - reached)
        return (
            f"fuzz on {database}: {self.sent} requests, {len(self.failures)} failed "
            f"(5xx or dropped connection), statuses {dict(sorted(by_class.items()))}, "
            f"{len(reached)} of {len(self.routes)} routes answered a 2xx "
            f"(not: {', '.join(missed) if len(missed) <= 10 else f'{len(missed)} routes'})"
        )


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[list[logging.LogRecord]]:
    """What Patron and uvicorn log at ERROR while the test runs."""
    handler = Recorded()
    loggers = [logging.getLogger(name) for name in ("patron", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def _workspace(settings: Settings) -> tuple[dict[str, str], int]:
    """The fuzz's workspace, with a Talon.One application: their keys, and its igrp."""
    services = await open_services(settings)
    try:
        issued = await services.workspaces.create(name="fuzz")
        application = await services.applications.create(workspace="fuzz", name="Shop")
        number = application.application.id
        program = Program(0, "", "points", "Points", subscribed_applications=(number,))
        made = await services.loyalty.create(workspace="fuzz", program=program)
        login = resolved(TALON_LOGIN, {})
        await services.managers.create(workspace="fuzz", **login)
    finally:
        await services.close()
    assert issued.igrp is not None
    keys = {
        **issued.keys,
        "talon_integration_key": application.integration_key,
        "talon_management_key": application.management_key,
        "application_id": str(number),
        "program_id": str(made.id),
    }
    return keys, issued.igrp


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[PatronApp, str, dict[str, str], int]]:
    keys, igrp = asyncio.run(_workspace(settings))
    app = create_app(settings)
    with serving_in_thread(app) as url:
        yield app, url, keys, igrp


def _created(response: httpx.Response, name: str) -> str:
    assert response.status_code < 300, response.text
    return str(response.json()[name])


def seed(client: httpx.Client, keys: dict[str, str], igrp_number: int) -> Tenant:
    """A record of each kind, for valid requests to name."""
    app = CREDENTIALS["voucherify"](keys)
    config = CREDENTIALS["infinity"](keys)
    igrp = f"/config/v2/igrps/{igrp_number}"
    customer = client.post("/v1/customers", json={"source_id": "ada", "name": "Ada"}, headers=app)
    segment = client.post(
        "/v1/segments", json={"name": "fans", "type": "static", "customers": ["ada"]}, headers=app
    )
    action = client.post(
        "/v1/customers/metadata/async",
        json={"source_ids": ["ada"], "metadata": {"k": "v"}},
        headers=app,
    )
    group = client.post(f"{igrp}/segmentGroups", json={"segmentGroupName": "g"}, headers=config)
    criteria = [{"field": "event", "op": "equals", "value": "e"}]
    event_segment = client.post(
        f"{igrp}/segments", json={"segmentName": "s", "criteria": criteria}, headers=config
    )
    known: dict[str, tuple[str, ...]] = {
        "customer_id": (_created(customer, "id"), "ada"),
        "segment_id": (_created(segment, "id"),),
        "async_action_id": (_created(action, "async_action_id"),),
        "igrp": (str(igrp_number),),
        "segment": (_created(event_segment, "segment"), "1"),
        "group": (_created(group, "segmentGroupId"),),
        "application_id": (keys["application_id"],),
        "program_id": (keys["program_id"],),
    }
    known.update(_talon(client, keys, known))
    return Tenant(keys, known)


def _talon(
    client: httpx.Client, keys: dict[str, str], known: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """A Talon.One campaign with a ruleset, a coupon and a referral code; an audience;
    a profile with points and an open session: the ids the Talon routes name."""
    management = CREDENTIALS["talon_management"](keys)
    integration = CREDENTIALS["talon_integration"](keys)
    application = f"/v1/applications/{keys['application_id']}"

    def made(path: str, body: Any, headers: dict[str, str] = management) -> dict[str, Any]:
        response = client.post(path, json=resolved(body, known), headers=headers)
        assert response.status_code < 300, response.text
        created: dict[str, Any] = response.json()
        return created["data"][0] if "data" in created else created

    known["campaign_id"] = (str(made(f"{application}/campaigns", NEW_CAMPAIGN)["id"]),)
    campaign = f"{application}/campaigns/{known['campaign_id'][0]}"
    ruleset = {"rules": RULES, "bindings": [], "activate": True}
    known["ruleset_id"] = (str(made(f"{campaign}/rulesets", ruleset)["id"]),)
    coupon = made(
        f"{campaign}/coupons", {"numberOfCoupons": 1, "couponPattern": "FZ/####", "usageLimit": 0}
    )
    referral = {"campaignId": Known("campaign_id", True), "advocateProfileIntegrationId": "ada"}
    referral_code = made("/v1/referrals", referral, integration)
    audience = made("/v2/audiences", {"name": "fans"}, integration)
    known.update(coupon_id=(str(coupon["id"]),), coupon_code=(coupon["value"],))
    known.update(referral_id=(str(referral_code["id"]),), referral_code=(referral_code["code"],))
    known["audience_id"] = (str(audience["id"]),)
    known.update(rest=known["coupon_code"], integration_id=("ada", "bob"))
    known["customer_session_id"] = ("s1", "s2")
    for session in known["customer_session_id"]:
        body = resolved({"customerSession": SESSION}, known)
        response = client.put(f"/v2/customer_sessions/{session}", json=body, headers=integration)
        assert response.status_code == 200, response.text
    points = f"/v1/loyalty_programs/{keys['program_id']}/profile/ada/add_points"
    response = client.put(points, json={"points": 50}, headers=management)
    assert response.status_code == 204, response.text
    return known


def _connection(response: httpx.Response) -> Any:
    """The client's end of the connection the response came on (None: closed already)."""
    try:
        return response.extensions["network_stream"].get_extra_info("client_addr")
    except OSError:
        return None


def _surface(app: PatronApp, request: FuzzRequest) -> str:
    """The name of the surface app the dispatcher hands the request to."""
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    owner = app.surface_for({"type": "http", "path": unquote(request.path), "headers": headers})
    return next(name for name, surface in surfaces(app).items() if surface is owner)


def check(app: PatronApp, client: httpx.Client, request: FuzzRequest) -> int:
    """Send the request; check the answer and that the connection is still the same one."""
    response = client.request(
        request.method,
        request.path,
        params=request.query,
        headers=request.headers,
        content=request.body,
    )
    status = response.status_code
    assert status < 500, f"{status} {response.text[:300]} for {request!r}"
    connection = _connection(response)
    assert connection is not None, f"connection closed after {status} to {request!r}"
    probe = client.get("/health")
    assert _connection(probe) == connection, f"connection dropped after {status} to {request!r}"
    if status >= 400 and request.method != "HEAD":
        surface = _surface(app, request)
        assert response.headers["content-type"] == "application/json", (surface, request)
        shaped = ERROR_SHAPES[surface](response.json(), status)
        assert shaped, f"not {surface}'s error format: {response.text[:300]} for {request!r}"
    return status


def test_no_route_answers_5xx_or_drops_the_connection(
    served: tuple[PatronApp, str, dict[str, str], int],
    database_url: str,
    logged_errors: list[logging.LogRecord],
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, url, keys, igrp = served
    assert set(surfaces(app)) == set(CREDENTIALS) == set(ERROR_SHAPES), (
        "a new surface: say how it authenticates and what its errors look like, in fuzzing.py"
    )
    every_route = routes(app)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tally = Tally({route.path for route in every_route})
    with httpx.Client(base_url=url, limits=limits, timeout=60) as client:
        tenant = seed(client, keys, igrp)

        @fuzz_settings(
            max_examples=scale(100, 20_000),
            deadline=None,
            database=None,  # the server's state differs from run to run
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests(targets(every_route), tenant))
        def one(request: FuzzRequest) -> None:
            tally.sent += 1
            try:
                tally.count(request, check(app, client, request))
            except (AssertionError, httpx.HTTPError) as failure:
                tally.failures.append(str(failure))
                raise

        try:
            one()
        finally:
            with capsys.disabled():
                print(f"\n{tally.summary(database_url.partition(':')[0])}")
    assert not [record.getMessage() for record in logged_errors]
    # Every surface was reached, and its handlers answered more than errors.
    assert sum(count for status, count in tally.statuses.items() if status < 300) > 0
