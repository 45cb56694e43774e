"""The Config API's segments and segment groups, through HTTP, on both databases."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from patron.domain.tenancy.service import KeyKind
from patron.services import Services

pytestmark = pytest.mark.anyio
SEED_CRITERIA = [
    {"field": "act", "op": "begins", "value": "12"},
    {"field": "href", "op": "nbegins", "value": "/action/do"},
]


@dataclass(frozen=True)
class Installation:
    igrp: int
    headers: dict[str, str]

    def url(self, path: str = "") -> str:
        return f"/config/v2/igrps/{self.igrp}{path}"


async def install(services: Services) -> Installation:
    issued = await services.workspaces.create(name=f"ws-{secrets.token_hex(4)}")
    assert issued.igrp is not None
    key = issued.keys[KeyKind.CONFIG_API_KEY]
    return Installation(issued.igrp, {"Authorization": f"Bearer {key}"})


@pytest.fixture
async def inst(app_services: tuple[object, Services]) -> Installation:
    return await install(app_services[1])


async def create(api: httpx.AsyncClient, inst: Installation, **body: Any) -> httpx.Response:
    body.setdefault("segmentName", "Sales")
    body.setdefault("criteria", SEED_CRITERIA)
    return await api.post(inst.url("/segments"), json=body, headers=inst.headers)


async def test_create_read_and_list_in_the_seeds_shape(
    api: httpx.AsyncClient, inst: Installation
) -> None:
    created = await create(api, inst, segment=400, segmentRef="Ref Segment", orgId=2)
    assert created.status_code == 201
    read = await api.get(inst.url("/segments/400"), headers=inst.headers)
    assert read.status_code == 200
    assert read.json() == {
        "segment": "400",
        "segmentRef": "Ref Segment",
        "segmentName": "Sales",
        "segmentOrder": "0",
        "criteria": SEED_CRITERIA,
        "segmentStatus": "200",
        "orgId": "2",
        "segmentGroupId": "0",
    }
    auto = await create(api, inst)
    assert auto.json()["segment"] == "401"
    listed = await api.get(inst.url("/segments"), headers=inst.headers)
    assert [s["segment"] for s in listed.json()] == ["0", "1", "400", "401"]


async def test_list_filters_sorts_and_pages(api: httpx.AsyncClient, inst: Installation) -> None:
    for order, name in ((3, "c"), (1, "a"), (2, "b")):
        await create(api, inst, segmentName=name, segmentOrder=order)
    url = inst.url("/segments")
    response = await api.get(
        url, params={"sort": "-segmentOrder", "limit": 2}, headers=inst.headers
    )
    assert [s["segmentName"] for s in response.json()] == ["c", "b"]
    response = await api.get(url, params={"filter": "segmentName:a"}, headers=inst.headers)
    assert [s["segmentName"] for s in response.json()] == ["a"]
    response = await api.get(url, params={"offset": 4}, headers=inst.headers)
    assert [s["segmentName"] for s in response.json()] == ["b"]
    for bad in ({"filter": "criteria:x"}, {"sort": "nope"}, {"limit": "-1"}):
        response = await api.get(url, params=bad, headers=inst.headers)
        assert response.status_code == 400, bad


async def test_update_order_and_delete(api: httpx.AsyncClient, inst: Installation) -> None:
    await create(api, inst, segment=10)
    await create(api, inst, segment=11)
    response = await api.post(
        inst.url("/segments/10"), json={"segmentName": "Renamed"}, headers=inst.headers
    )
    assert response.status_code == 204
    response = await api.put(
        inst.url("/segments/order"), json={"sortedSegments": [11, 10]}, headers=inst.headers
    )
    assert response.status_code == 204
    ten = (await api.get(inst.url("/segments/10"), headers=inst.headers)).json()
    assert (ten["segmentName"], ten["segmentOrder"]) == ("Renamed", "1")
    assert (await api.delete(inst.url("/segments/10"), headers=inst.headers)).status_code == 204
    gone = await api.get(inst.url("/segments/10"), headers=inst.headers)
    assert gone.json()["segmentStatus"] == "410"
    again = await api.post(inst.url("/segments/10"), json={}, headers=inst.headers)
    assert again.status_code == 404
    assert (await create(api, inst, segment=10)).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"segmentName": "x" * 101}, "segmentName"),
        ({"segmentRef": "x" * 101}, "segmentRef"),
        ({"segmentOrder": 65536}, "segmentOrder"),
        ({"segment": 1}, "segment"),
        ({"segment": 65536}, "segment"),
        ({"segmentGroupId": 99}, "segmentGroupId"),
        ({"criteria": [{"field": "goal", "op": "exists"}]}, "criteria[0].field"),
        ({"criteria": [{"field": "a", "op": "like", "value": 1}]}, "criteria[0].op"),
        # Past the regex size budget: 4 x 255 positions once the repetitions expand.
        ({"criteria": [{"field": "a", "op": "regex", "value": ".{255}" * 4}]}, "criteria[0].value"),
        ({"criteria": "a=1"}, "criteria"),
        ({"segmentOrder": "first"}, "segmentOrder"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_segments_get_a_400_naming_the_property(
    api: httpx.AsyncClient, inst: Installation, body: dict[str, Any], field: str
) -> None:
    response = await create(api, inst, **body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert field in [problem["field"] for problem in error["errors"]]


async def test_built_in_segments_cannot_be_changed(
    api: httpx.AsyncClient, inst: Installation
) -> None:
    default = await api.get(inst.url("/segments/1"), headers=inst.headers)
    assert default.json()["segmentName"] == "Default"
    for segment_id in (0, 1):
        url = inst.url(f"/segments/{segment_id}")
        assert (await api.post(url, json={}, headers=inst.headers)).status_code == 400
        assert (await api.delete(url, headers=inst.headers)).status_code == 400
    response = await api.put(
        inst.url("/segments/order"), json={"sortedSegments": [1]}, headers=inst.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["field"] == "sortedSegments[0]"


async def test_segment_groups(api: httpx.AsyncClient, inst: Installation) -> None:
    url = inst.url("/segmentGroups")
    created = await api.post(url, json={"segmentGroupName": "Web"}, headers=inst.headers)
    assert created.status_code == 201
    assert created.json() == {
        "segmentGroupId": "1",
        "segmentGroupName": "Web",
        "igrp": str(inst.igrp),
        "segmentGroupStatus": "200",
    }
    renamed = await api.post(url + "/1", json={"segmentGroupName": "Site"}, headers=inst.headers)
    assert renamed.status_code == 204
    assert (await api.get(url + "/1", headers=inst.headers)).json()["segmentGroupName"] == "Site"
    await create(api, inst, segment=5, segmentGroupId=1)
    assert (await api.delete(url + "/1", headers=inst.headers)).status_code == 409
    await api.delete(inst.url("/segments/5"), headers=inst.headers)
    assert (await api.delete(url + "/1", headers=inst.headers)).status_code == 204
    listed = await api.get(url, params={"filter": "segmentGroupStatus:410"}, headers=inst.headers)
    assert [g["segmentGroupId"] for g in listed.json()] == ["1"]
    missing = await api.post(url, json={}, headers=inst.headers)
    assert missing.status_code == 400
    chosen_id = {"segmentGroupId": 7, "segmentGroupName": "Mine"}  # ids are assigned, not chosen
    refused = await api.post(url, json=chosen_id, headers=inst.headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"] == [
        {"field": "segmentGroupId", "message": "unknown property"}
    ]
    assert (await api.get(url + "/9", headers=inst.headers)).status_code == 404


async def test_keys_reach_only_their_own_installation(
    api: httpx.AsyncClient, app_services: tuple[object, Services], inst: Installation
) -> None:
    other = await install(app_services[1])
    await create(api, other, segment=7)
    response = await api.get(other.url("/segments/7"), headers=inst.headers)
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "forbidden"
    assert (await api.get(inst.url("/segments"))).status_code == 401
    wrong = {"Authorization": "Bearer not-a-key"}
    assert (await api.get(inst.url("/segments"), headers=wrong)).status_code == 401
    basic = httpx.BasicAuth(other.headers["Authorization"].removeprefix("Bearer "), "")
    assert (await api.get(other.url("/segments/7"), auth=basic)).status_code == 200


async def test_malformed_requests_get_a_400(api: httpx.AsyncClient, inst: Installation) -> None:
    url = inst.url("/segments")
    assert (await api.post(url, content=b"{", headers=inst.headers)).status_code == 400
    assert (await api.get(url + "/abc", headers=inst.headers)).status_code == 400
