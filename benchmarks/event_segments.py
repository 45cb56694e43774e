"""The event segments of the "100 segments" scenario, and their creation over the Config API.

The segments are what a shop's analyst defines: campaign landings, partner
referrals, lifecycle events, big orders in other currencies, product
categories, newsletter traffic, searches, blog visits. They use every kind of
operator the issue names (``equals``, ``contains``, ``regex``, ``in``) on
``event``, ``properties.*`` and ``context.page.url``, plus ``begins``,
``ends``, ``gt`` and ``any``/``not`` groups, in four segment groups.

They are built so that the load generator's events match none of them but the
last (large orders, a few percent of events): every event is tested against
all of them, the dearest case for first-match classification, and a few are
still stamped with a segment of their own. ``tests/test_benchmarks.py`` checks
that with Patron's own criteria evaluator.
"""

from __future__ import annotations

from typing import Any

import httpx

GROUPS = ("Campaigns", "Partners", "Commerce", "Content")
Definition = tuple[str, str, list[dict[str, Any]]]  # name, group name, criteria
CATEGORIES = ("shoes", "shirts", "bags", "hats", "jackets", "socks", "watches", "belts")


def _family(i: int) -> Definition:
    """Segment ``i``: (name, group name, criteria); ten families take turns."""
    n = i // 10
    url = "context.page.url"
    family = i % 10
    if family == 0:
        return (
            f"Spring campaign {n}",
            "Campaigns",
            [{"field": url, "op": "contains", "value": f"utm_campaign=spring-{n}"}],
        )
    if family == 1:
        pattern = f"^https://(www\\.)?partner{n}\\.example\\.(com|net)/"
        return (
            f"Partner {n} referrals",
            "Partners",
            [{"field": url, "op": "regex", "value": pattern}],
        )
    if family == 2:
        return (
            f"Subscribers, plan {n}",
            "Commerce",
            [
                {"field": "event", "op": "in", "value": ["Subscription Started", "Trial Started"]},
                {"field": "properties.plan", "op": "equals", "value": f"plan-{n}"},
            ],
        )
    if family == 3:
        currency = ("USD", "CAD", "AUD", "JPY", "CHF")[n % 5]
        return (
            f"Orders in {currency} over {1000 + n}",
            "Commerce",
            [
                {"field": "event", "op": "equals", "value": "Order Completed"},
                {"field": "properties.currency", "op": "equals", "value": currency},
                {"field": "properties.total", "op": "gt", "value": 1000 + n},
            ],
        )
    if family == 4:
        return (
            f"Home and garden {n}",
            "Commerce",
            [
                {
                    "field": "properties.category",
                    "op": "in",
                    "value": [f"garden-{n}", f"kitchen-{n}", f"toys-{n}", f"books-{n}"],
                }
            ],
        )
    if family == 5:
        return (
            f"Newsletter {n}",
            "Campaigns",
            [{"field": "context.campaign.source", "op": "equals", "value": f"newsletter-{n}"}],
        )
    if family == 6:
        return (
            f"Gift searches {n}",
            "Content",
            [
                {"field": "event", "op": "equals", "value": "Products Searched"},
                {"field": "query", "op": "regex", "value": f"^(gift|present) (card|voucher) {n}$"},
            ],
        )
    if family == 7:
        return (
            f"Blog readers {n}",
            "Content",
            [
                {
                    "any": [
                        {"field": url, "op": "begins", "value": f"https://blog.example.com/{n}/"},
                        {
                            "field": "context.page.referrer",
                            "op": "contains",
                            "value": f"news{n}.org",
                        },
                    ]
                }
            ],
        )
    if family == 8:
        return (
            f"Unlisted product views {n}",
            "Commerce",
            [
                {"field": "event", "op": "equals", "value": "Product Viewed"},
                {"not": {"field": "category", "op": "in", "value": list(CATEGORIES)}},
                {"field": url, "op": "contains", "value": f"/collection-{n}/"},
            ],
        )
    return (
        f"Promotional SKUs {n}",
        "Commerce",
        [{"field": "properties.sku", "op": "ends", "value": f"-promo-{n}"}],
    )


# Tried last, after all the others: matches the loadgen's larger orders.
LAST: Definition = (
    "Large orders",
    "Commerce",
    [
        {"field": "event", "op": "equals", "value": "Order Completed"},
        {"field": "properties.total", "op": "gte", "value": 900},
    ],
)


def definitions(count: int) -> list[Definition]:
    """``count`` segments in the order they are tried: (name, group name, criteria)."""
    if count <= 0:
        return []
    return [_family(i) for i in range(count - 1)] + [LAST]


def create(base_url: str, igrp: int, key: str, count: int) -> list[int]:
    """Create the groups and ``count`` segments through the Config API; return the segment ids."""
    root = f"{base_url}/config/v2/igrps/{igrp}"
    headers = {"Authorization": f"Bearer {key}"}
    ids: list[int] = []
    with httpx.Client(headers=headers, timeout=30) as client:
        groups: dict[str, str] = {}
        for name in GROUPS:
            answer = client.post(f"{root}/segmentGroups", json={"segmentGroupName": name})
            answer.raise_for_status()
            groups[name] = answer.json()["segmentGroupId"]
        for order, (name, group, criteria) in enumerate(definitions(count)):
            body = {
                "segmentName": name,
                "segmentRef": f"bench-{order}",
                "segmentOrder": str(order),
                "segmentGroupId": groups[group],
                "criteria": criteria,
            }
            answer = client.post(f"{root}/segments", json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"segment {order} refused: {answer.status_code} {answer.text}")
            ids.append(int(answer.json()["segment"]))
        listed = client.get(f"{root}/segments", params={"filter": "segmentStatus:200"})
        listed.raise_for_status()
        active = {int(item["segment"]) for item in listed.json()}
        if not set(ids) <= active:
            raise RuntimeError("the Config API does not list every segment just created")
    return ids


def delete(base_url: str, igrp: int, key: str, ids: list[int]) -> None:
    """Delete the segments (status 410: they stop matching)."""
    root = f"{base_url}/config/v2/igrps/{igrp}"
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for segment in ids:
            client.delete(f"{root}/segments/{segment}").raise_for_status()
