"""Custom attributes: declared and read with the current SDK, unmodified."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import talon_one
from talon_one.rest import ApiException

from tests.surfaces.talon_one.support import (
    TalonShop,
    raw_talon_error,
    server,
    shop,
    talon_error,
)

pytestmark = pytest.mark.server
__all__ = ["server", "shop"]  # fixtures


def new_attribute(**overrides: Any) -> talon_one.NewAttribute:
    fields = {
        "entity": "CustomerSession",
        "name": "shippingZone",
        "title": "Shipping zone",
        "type": "string",
        "description": "Where the order goes",
        "suggestions": ["EU", "US"],
        "editable": True,
    }
    return talon_one.NewAttribute(**{**fields, **overrides})


def test_attributes_are_declared_listed_and_read(shop: TalonShop) -> None:
    api = shop.management
    zone = api.create_attribute(new_attribute())
    assert (zone.entity, zone.name, zone.title, zone.type) == (
        "CustomerSession",
        "shippingZone",
        "Shipping zone",
        "string",
    )
    assert zone.suggestions == ["EU", "US"]
    assert zone.editable is True
    assert isinstance(zone.account_id, int)
    event = api.create_attribute(
        new_attribute(
            entity="Event",
            event_type="order_shipped",
            name="carrier",
            title="Carrier",
            suggestions=[],
            editable=False,
        )
    )
    assert event.event_type == "order_shipped"
    # The same name on another entity is another attribute.
    api.create_attribute(new_attribute(entity="CustomerProfile", type="(list string)"))

    assert api.get_attribute(zone.id).name == "shippingZone"
    listed = api.get_attributes()
    assert listed.total_result_size == 3
    assert [a.id for a in api.get_attributes(entity="Event").data] == [event.id]
    assert [a.name for a in api.get_attributes(sort="-name", page_size=1).data] == ["shippingZone"]

    with pytest.raises(ApiException) as twice:
        api.create_attribute(new_attribute(title="Again"))
    talon_error(twice.value, 409)
    with pytest.raises(ApiException) as missing:
        api.get_attribute(event.id + 1000)
    talon_error(missing.value, 404)


BAD: list[tuple[dict[str, Any], str]] = [
    ({"name": "1zone"}, "/name"),
    ({"name": "zone\n"}, "/name"),
    ({"name": "zöne"}, "/name"),
    ({"title": "Zone: where?"}, "/title"),
    ({"entity": "Planet"}, "/entity"),
    ({"type": "colour"}, "/type"),
    ({"suggestions": "EU"}, "/suggestions"),
    ({"editable": "yes"}, "/editable"),
    ({"description": None}, "/description"),
    ({"eventType": 5}, "/eventType"),
]


def test_bad_attributes_are_refused_in_talons_format(shop: TalonShop) -> None:
    base = shop.management.api_client.sanitize_for_serialization(new_attribute())
    with httpx.Client(headers=shop.management_headers()) as client:
        for overrides, pointer in BAD:
            response = client.post(f"{shop.url}/v1/attributes", json={**base, **overrides})
            error = raw_talon_error(response, 400)
            assert pointer in [e["source"].get("pointer") for e in error["errors"]], overrides
        raw_talon_error(client.post(f"{shop.url}/v1/attributes", content=b"[]"), 400)
        raw_talon_error(client.get(f"{shop.url}/v1/attributes?entity=Planet"), 400)
        raw_talon_error(client.get(f"{shop.url}/v1/attributes/0"), 404)
    assert shop.management.get_attributes().data == []
