"""Customer segments and customer lists at scale, in-process, against the plain driver.

Given a database Patron has migrated and ``prefill.py --customers N`` has
filled, prints one JSON object with:

* ``scan``: one plain SQL scan of the customers table with the segment's JSON
  predicate, written by hand for the dialect and run with the plain driver
  (sqlite3 / psycopg), counting the matches — the reference of the backfill;
* ``backfill_passive`` / ``backfill_auto_update``: creating the same segment
  through Patron's service (the ``INSERT … SELECT`` of its members, plus, for
  auto-update, a ``customer.segment.entered`` record per member), and
  deleting it again;
* the scan and the passive backfill run ``--rounds`` times, in turn; their
  ``seconds`` are the medians (every round's are in ``rounds``). The first
  write after a bulk load pays for growing the database file (on SQLite the
  segment's pages land past the end of the file; later ones reuse the pages
  the deleted segment freed), which a single measurement would count as the
  backfill's;
* ``list_customers``: p50/p95 of ``list_customers`` pages (10 customers and
  the total) for each filter, through the service;
* ``reevaluate``: in a separate small workspace with 100 auto-update
  segments, the cost per profile of matching it against all of them (Python
  only), and of a whole ``update_customer`` with those 100 segments against
  the same update with none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import psycopg

from patron.domain.clock import utcnow
from patron.domain.customers.model import CustomerOrder, CustomerQuery
from patron.domain.segments.customers.membership import Membership
from patron.domain.segments.customers.model import CustomerSegment, SegmentType
from patron.services import Services, open_services
from patron.settings import Settings
from patron.surfaces.voucherify.customer_rows import customer_row

# The segment: pro-plan customers with an address in Britain or Italy (1 in 12 of prefill.py's).
FILTER = {
    "junction": "and",
    "metadata.plan": {"conditions": {"$is": ["pro"]}},
    "address.country": {"conditions": {"$in": ["GB", "IT"]}},
}
SCAN = {
    "sqlite": (
        "SELECT count(*) FROM customers WHERE workspace_id = ?"
        " AND json_extract(attributes, '$.plan') = 'pro'"
        " AND json_extract(address, '$.country') IN ('GB', 'IT')"
    ),
    "postgresql": (
        "SELECT count(*) FROM customers WHERE workspace_id = %s"
        " AND attributes ->> 'plan' = 'pro' AND address ->> 'country' IN ('GB', 'IT')"
    ),
}


# The behavioural segment (--behaviour, on prefill.py's events): two or more
# orders in the last 30 days. Its reference counts each customer's events
# with a correlated subquery, as a hand-written query would.
BEHAVIOUR = {"events.Order Completed": {"conditions": {"$more_than": [1]}, "days": 30}}
BEHAVIOUR_SCAN = {
    "sqlite": (
        "SELECT count(*) FROM customers AS c WHERE c.workspace_id = ?"
        " AND (SELECT count(*) FROM events AS e WHERE e.customer_id = c.id AND e.type = 'track'"
        " AND e.name = 'Order Completed' AND e.timestamp >= ?) > 1"
    ),
    "postgresql": (
        "SELECT count(*) FROM customers AS c WHERE c.workspace_id = %s"
        " AND (SELECT count(*) FROM events AS e WHERE e.customer_id = c.id AND e.type = 'track'"
        " AND e.name = 'Order Completed' AND e.timestamp >= %s) > 1"
    ),
}


def scan(url: str, workspace_id: str, *, behaviour: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    since = utcnow() - timedelta(days=30)
    if url.startswith("sqlite"):
        query = BEHAVIOUR_SCAN["sqlite"] if behaviour else SCAN["sqlite"]
        # SQLite keeps naive UTC text, as Patron's column type writes it.
        params = (
            (workspace_id, since.replace(tzinfo=None).isoformat(" "))
            if behaviour
            else (workspace_id,)
        )
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            (count,) = connection.execute(query, params).fetchone()
    else:
        query = BEHAVIOUR_SCAN["postgresql"] if behaviour else SCAN["postgresql"]
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as connection:
            row = connection.execute(
                query, (workspace_id, since) if behaviour else (workspace_id,)
            ).fetchone()
            assert row is not None
            count = row[0]
    return {"seconds": round(time.perf_counter() - started, 3), "matches": count}


async def backfill(
    services: Services, workspace_id: str, kind: str, *, behaviour: bool = False
) -> dict[str, Any]:
    started = time.perf_counter()
    segment, members = await services.customer_segments.create(
        workspace_id=workspace_id,
        name=f"{'Two orders in 30 days' if behaviour else 'Pro in GB/IT'} ({kind})",
        type_=kind,
        filter_=BEHAVIOUR if behaviour else FILTER,
    )
    seconds = time.perf_counter() - started
    await services.customer_segments.delete(workspace_id=workspace_id, segment_id=segment.id)
    return {"seconds": round(seconds, 3), "members": members}


async def timed(work: Callable[[], Awaitable[Any]], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await work()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


async def list_customers(
    services: Services, workspace_id: str, customers: int, repeat: int
) -> dict[str, Any]:
    rng = random.Random(7)

    def page(**filters: Any) -> Callable[[], Awaitable[Any]]:
        def run() -> Awaitable[Any]:
            chosen = {k: v() if callable(v) else v for k, v in filters.items()}
            query = CustomerQuery(**chosen)
            return services.customers.list(workspace_id=workspace_id, query=query)

        return run

    # prefill.py's names: "<first>.<last><i>@example.com"; a random customer's email.
    sample = await services.customers.list(
        workspace_id=workspace_id, query=CustomerQuery(limit=100, order=CustomerOrder.UPDATED_AT)
    )
    emails = [p.email for p in sample.customers if p.email]
    newest = sample.customers[0].created_at
    return {
        "no filter": await timed(page(), repeat),
        "email": await timed(page(email=lambda: rng.choice(emails)), repeat),
        "city": await timed(page(city="Paris"), repeat),
        "name": await timed(page(name="Ada Lovelace"), repeat),
        "created_at after (last 1%)": await timed(
            page(created_after=newest.replace(day=1), descending=False), repeat
        ),
        "order source_id, page 50": await timed(
            page(order=CustomerOrder.SOURCE_ID, page=50), repeat
        ),
        "customers": customers,
    }


def hundred_segments(workspace_id: str) -> list[dict[str, Any]]:
    """100 filters of the kinds a shop defines, over metadata, address and standard fields."""
    filters = []
    for i in range(100):
        family = i % 5
        spec: dict[str, Any]
        if family == 0:
            spec = {"metadata.plan": {"conditions": {"$is": [f"plan-{i}"]}}}
        elif family == 1:
            spec = {"metadata.lifetime_value": {"conditions": {"$more_than": [1000 + i * 50]}}}
        elif family == 2:
            spec = {"address.city": {"conditions": {"$in": [f"City {i}", f"Town {i}"]}}}
        elif family == 3:
            spec = {"email": {"conditions": {"$ends_with": [f"@partner{i}.example"]}}}
        else:
            spec = {
                "junction": "or",
                "metadata.country": {"conditions": {"$is": [f"C{i}"]}},
                "name": {"conditions": {"$starts_with": [f"Name {i}"]}},
            }
        filters.append(spec)
    return filters


async def reevaluate(settings: Settings, repeat: int) -> dict[str, Any]:
    """Re-evaluation cost with 100 segments, in a workspace of its own (and one with none)."""
    services = await open_services(settings, migrate=False)
    try:
        suffix = secrets.token_hex(3)
        create = services.workspaces.create
        with_segments = (await create(name=f"reevaluate-100-{suffix}")).workspace.id
        without = (await create(name=f"reevaluate-0-{suffix}")).workspace.id
        specs = hundred_segments(with_segments)
        for i, spec in enumerate(specs):
            await services.customer_segments.create(
                workspace_id=with_segments, name=f"S{i}", type_="auto-update", filter_=spec
            )
        item = {"source_id": "shopper", "email": "a@b.example", "metadata": {"plan": "pro"}}
        row, _ = customer_row(item)
        for workspace_id in (with_segments, without):
            await services.customers.upsert(workspace_id=workspace_id, row=row)
        profile = await services.customers.profile(workspace_id=with_segments, ref="shopper")
        now = utcnow()
        stored = [
            CustomerSegment(
                f"s{i}", with_segments, f"S{i}", SegmentType.AUTO_UPDATE, spec, now, now
            )
            for i, spec in enumerate(specs)
        ]
        membership = Membership(stored)
        rounds = 2_000
        started = time.perf_counter()
        for _ in range(rounds):
            membership.matching(profile, now)
        matching_us = (time.perf_counter() - started) / rounds * 1e6

        def update(workspace_id: str) -> Callable[[], Awaitable[Any]]:
            counter = iter(range(10**9))

            def run() -> Awaitable[Any]:
                changed, _ = customer_row({"metadata": {"visits": next(counter)}})
                return services.customers.update(
                    workspace_id=workspace_id, ref="shopper", row=changed
                )

            return run

        return {
            "segments": len(stored),
            "matching_us": round(matching_us, 1),
            "update_with_100": await timed(update(with_segments), repeat),
            "update_with_0": await timed(update(without), repeat),
        }
    finally:
        await services.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--workspace-id", required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=20, help="queries per latency figure")
    parser.add_argument("--rounds", type=int, default=3, help="scans and passive backfills")
    parser.add_argument(
        "--behaviour",
        action="store_true",
        help="only the behavioural segment's scan and passive backfill (needs prefill's events)",
    )
    args = parser.parse_args()
    settings = Settings(database_url=args.url, log_level="warning")
    if args.behaviour:
        print(json.dumps(await behaviour_backfill(settings, args.workspace_id, args.rounds)))
        return
    services = await open_services(settings, migrate=False)
    try:
        scans, passives = [], []
        for _ in range(args.rounds):
            scans.append(scan(args.url, args.workspace_id))
            passives.append(await backfill(services, args.workspace_id, "passive"))
        reference, passive = _median(scans), _median(passives)
        auto = await backfill(services, args.workspace_id, "auto-update")
        listing = await list_customers(services, args.workspace_id, args.customers, args.repeat)
    finally:
        await services.close()
    result = {
        "customers": args.customers,
        "scan": reference,
        "backfill_passive": passive,
        "backfill_auto_update": auto,
        "list_customers": listing,
        "reevaluate": await reevaluate(settings, args.repeat),
    }
    assert passive["members"] == reference["matches"] == auto["members"], result
    print(json.dumps(result))


async def behaviour_backfill(settings: Settings, workspace_id: str, rounds: int) -> dict[str, Any]:
    """Scan and passive backfill of the behavioural segment, in turn, ``rounds`` times."""
    services = await open_services(settings, migrate=False)
    try:
        scans, passives = [], []
        for _ in range(rounds):
            scans.append(scan(settings.database_url, workspace_id, behaviour=True))
            passives.append(await backfill(services, workspace_id, "passive", behaviour=True))
    finally:
        await services.close()
    reference, passive = _median(scans), _median(passives)
    # The two take "30 days ago" a moment apart: an event at the edge may count in one only.
    assert abs(passive["members"] - reference["matches"]) <= 1 + reference["matches"] // 1000
    return {"scan": reference, "backfill_passive": passive}


def _median(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The first round's figures with the median ``seconds``, and every round's seconds."""
    seconds = [figures["seconds"] for figures in rounds]
    return {**rounds[0], "seconds": statistics.median(seconds), "rounds": seconds}


if __name__ == "__main__":
    asyncio.run(main())
