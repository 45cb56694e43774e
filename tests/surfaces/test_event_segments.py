"""Events are stamped with their event segment at ingest (Config API + tracking API)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from patron.domain.tenancy.service import KeyKind
from patron.services import Services
from tests.patron_server import patron_cli, running_server

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Setup:
    workspace_id: str
    write_key: str
    config: dict[str, str]
    igrp: int

    def url(self, path: str) -> str:
        return f"/config/v2/igrps/{self.igrp}{path}"


@pytest.fixture
async def setup(app_services: tuple[object, Services]) -> Setup:
    issued = await app_services[1].workspaces.create(name=f"ws-{secrets.token_hex(4)}")
    assert issued.igrp is not None
    config = {"Authorization": f"Bearer {issued.keys[KeyKind.CONFIG_API_KEY]}"}
    return Setup(issued.workspace.id, issued.keys[KeyKind.TRACKING_WRITE_KEY], config, issued.igrp)


async def configure(api: httpx.AsyncClient, setup: Setup, path: str, body: Any) -> Any:
    method = api.put if path.endswith("/order") else api.post
    response = await method(setup.url(path), json=body, headers=setup.config)
    assert response.status_code in (201, 204), response.text
    return response.json() if response.status_code == 201 else None


async def track(api: httpx.AsyncClient, setup: Setup, message_id: str, **fields: Any) -> None:
    body = {"userId": "u1", "messageId": message_id, **fields}
    response = await api.post("/v1/track", auth=(setup.write_key, ""), json=body)
    assert response.status_code == 200, response.text


async def stamps(services: Services, setup: Setup) -> dict[str, tuple[int, int]]:
    found = await services.customers.list_events(
        workspace_id=setup.workspace_id, ref="u1", limit=1000
    )
    return {e["message_id"]: (e["segment_id"], e["segment_group_id"]) for e in found}


async def test_events_get_the_first_matching_segment_and_keep_it(
    api: httpx.AsyncClient, app_services: tuple[object, Services], setup: Setup
) -> None:
    services = app_services[1]
    shop = await configure(api, setup, "/segmentGroups", {"segmentGroupName": "Shop"})
    group = int(shop["segmentGroupId"])
    buyers = [{"field": "event", "op": "equals", "value": "Buy"}]
    big = [{"field": "total", "op": "gt", "value": 100}]  # a bare name: properties.total
    await configure(
        api,
        setup,
        "/segments",
        {
            "segment": 10,
            "segmentName": "Buyers",
            "segmentOrder": 1,
            "criteria": buyers,
            "segmentGroupId": group,
        },
    )
    await configure(
        api,
        setup,
        "/segments",
        {"segment": 11, "segmentName": "Big", "segmentOrder": 0, "criteria": big},
    )

    await track(api, setup, "small-buy", event="Buy", properties={"total": 50})
    await track(api, setup, "big-buy", event="Buy", properties={"total": 500})
    await track(api, setup, "view", event="View")
    assert await stamps(services, setup) == {
        "small-buy": (10, group),
        "big-buy": (11, 0),  # order 0 is tried before order 1
        "view": (1, 0),  # nothing matched: the default segment
    }

    # Re-ordering, regrouping and deleting change what new events get; old stamps stay.
    await configure(api, setup, "/segments/order", {"sortedSegments": [10, 11]})
    await track(api, setup, "big-buy-2", event="Buy", properties={"total": 500})
    await configure(api, setup, "/segments/10", {"segmentGroupId": 0})
    await track(api, setup, "small-buy-2", event="Buy", properties={"total": 5})
    deleted = await api.delete(setup.url("/segments/10"), headers=setup.config)
    assert deleted.status_code == 204
    await track(api, setup, "small-buy-3", event="Buy", properties={"total": 5})
    assert await stamps(services, setup) == {
        "small-buy": (10, group),
        "big-buy": (11, 0),
        "view": (1, 0),
        "big-buy-2": (10, group),
        "small-buy-2": (10, 0),
        "small-buy-3": (1, 0),
    }


async def test_every_call_type_and_batches_are_classified(
    api: httpx.AsyncClient, app_services: tuple[object, Services], setup: Setup
) -> None:
    pricing = [{"field": "context.page.url", "op": "contains", "value": "/pricing"}]
    pages = [{"field": "type", "op": "equals", "value": "page"}]
    await configure(
        api, setup, "/segments", {"segment": 20, "segmentName": "Pricing", "criteria": pricing}
    )
    await configure(
        api,
        setup,
        "/segments",
        {"segment": 21, "segmentName": "Pages", "segmentOrder": 1, "criteria": pages},
    )
    context = {"page": {"url": "https://shop.example/pricing?x=1"}}
    batch = [
        {"type": "identify", "userId": "u1", "messageId": "id-1", "context": context},
        {"type": "page", "userId": "u1", "messageId": "page-1", "name": "Home"},
        {"type": "track", "userId": "u1", "messageId": "track-1", "event": "X"},
    ]
    response = await api.post("/v1/batch", auth=(setup.write_key, ""), json={"batch": batch})
    assert response.status_code == 200, response.text
    assert await stamps(app_services[1], setup) == {
        "id-1": (20, 0),
        "page-1": (21, 0),
        "track-1": (1, 0),
    }


def test_patron_events_list_shows_each_events_segment_and_group(database_url: str) -> None:
    created = json.loads(patron_cli(database_url, "workspace", "create", "shop", "--json"))
    credentials = created["credentials"]
    config = {"Authorization": f"Bearer {credentials['config_api_key']}"}
    base = f"/config/v2/igrps/{created['igrp']}"
    with running_server(database_url) as server, httpx.Client(base_url=server.url) as http:
        group = http.post(
            f"{base}/segmentGroups", json={"segmentGroupName": "Checkout"}, headers=config
        )
        assert group.status_code == 201
        group_id = int(group.json()["segmentGroupId"])
        segment = {
            "segment": 300,
            "segmentName": "Checkout",
            "segmentGroupId": group_id,
            "criteria": [{"field": "event", "op": "begins", "value": "Checkout"}],
        }
        assert http.post(f"{base}/segments", json=segment, headers=config).status_code == 201
        for message_id, event in (("m1", "Checkout Started"), ("m2", "Viewed")):
            body = {"userId": "u1", "event": event, "messageId": message_id}
            sent = http.post("/v1/track", json=body, auth=(credentials["tracking_write_key"], ""))
            assert sent.status_code == 200, sent.text
    listed = json.loads(
        patron_cli(
            database_url, "events", "list", "--customer", "u1", "--workspace", "shop", "--json"
        )
    )
    assert {e["message_id"]: (e["segment_id"], e["segment_group_id"]) for e in listed} == {
        "m1": (300, group_id),
        "m2": (1, 0),
    }
    table = patron_cli(database_url, "events", "list", "--customer", "u1", "--workspace", "shop")
    assert "segment" in table
    assert "group" in table
    checkout_row = next(line for line in table.splitlines() if "m1" in line)
    cells = [cell.strip() for cell in checkout_row.split("│") if cell.strip()]
    assert cells[-2:] == ["300", str(group_id)]
