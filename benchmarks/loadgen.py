"""A load generator for the tracking API (and Talon.One session updates), run as its own process.

Keeps ``--connections`` HTTP/1.1 keep-alive connections busy for
``--seconds``, each request carrying fresh ``messageId``s (so Patron's dedupe
never short-cuts the work), and prints one JSON line of results, including
the CPU time this process used: a generator near 100% of a core would be the
limit of what it measures. Written on raw asyncio streams (with uvloop) rather
than an HTTP client library so that one core of load generation outruns the
server under test; ``run.py`` also runs two of these at once against the no-op
endpoint to show it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import time
from typing import Any

import uvloop

# The events are what a shop's web site sends (analytics.js puts the page in
# every call's context): six event names, eight categories, 31 products.
EVENTS = (
    "Product Viewed",
    "Product Added",
    "Cart Viewed",
    "Checkout Started",
    "Order Completed",
    "Products Searched",
)
CATEGORIES = ("shoes", "shirts", "bags", "hats", "jackets", "socks", "watches", "belts")
CURRENCIES = ("EUR", "GBP", "EUR", "SEK")
VARIANTS = 1024  # distinct event bodies, apart from ids


def _tail(v: int) -> str:
    """Everything of variant ``v`` after its order id (the ids change per message)."""
    category, sku = CATEGORIES[v % 8], f"sku-{v % 31}"
    return (
        f'"sku":"{sku}","category":"{category}","total":{(v * 37) % 997}.5,'
        f'"currency":"{CURRENCIES[v % 4]}","products":[{{"sku":"{sku}","quantity":{1 + v % 3}}}]}},'
        f'"event":"{EVENTS[v % 6]}",'
        f'"context":{{"ip":"10.0.{v % 7}.{v % 250}","library":{{"name":"loadgen","version":"1"}},'
        f'"page":{{"url":"https://shop.example.com/{category}/{sku}?ref=nav",'
        f'"path":"/{category}/{sku}","title":"{sku.upper()} | Shop"}}}},'
        f'"timestamp":"2026-11-22T10:00:00.000Z"}}'
    )


TAILS = tuple(_tail(v) for v in range(VARIANTS))


def message(prefix: str, n: int, users: int) -> str:
    """The JSON text of the ``n``-th track call of a generator (``prefix`` makes ids unique)."""
    return (
        f'{{"type":"track","messageId":"{prefix}-{n}","userId":"user-{n % users}",'
        f'"properties":{{"order_id":"o-{n}",{TAILS[n % VARIANTS]}'
    )


def make_body(mode: str, batch: int, prefix: str, counter: int, users: int) -> bytes:
    if mode == "track":
        return message(prefix, counter, users).encode()
    start = counter * batch
    items = ",".join([message(prefix, start + i, users) for i in range(batch)])
    return f'{{"batch":[{items}],"sentAt":"2026-11-22T10:00:01.000Z"}}'.encode()


def session_body(n: int, users: int) -> bytes:
    """A Talon.One session update: three cart lines and a coupon code, one customer of ``users``."""
    v = n % VARIANTS
    items = ",".join(
        f'{{"sku":"sku-{(v + i) % 31}","name":"Item {i}","quantity":{1 + i},'
        f'"price":{10.5 + 7 * i},"category":"{CATEGORIES[(v + i) % 8]}"}}'
        for i in range(3)
    )
    return (
        f'{{"customerSession":{{"profileId":"user-{n % users}","cartItems":[{items}],'
        f'"couponCodes":["CODE-{v}"]}}}}'
    ).encode()


def sample_messages(count: int, users: int = 10_000) -> list[dict[str, Any]]:
    """The first ``count`` messages a generator sends, as JSON values (for tests)."""
    return [json.loads(message("sample", n, users)) for n in range(count)]


async def worker(args: argparse.Namespace, worker_id: int, stats: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection(args.host, args.port)
    auth = "Basic " + base64.b64encode(f"{args.write_key}:".encode()).decode()
    method, path = "POST", "/v1/track" if args.mode == "track" else "/v1/batch"
    if args.mode == "session":  # Talon.One's Integration API: the key is the application's
        method, auth = "PUT", f"ApiKey-v1 {args.write_key}"
    prefix = f"{os.getpid()}-{worker_id}-{time.time_ns()}"
    counter = 0
    deadline = stats["deadline"]
    while time.perf_counter() < deadline:
        if args.mode == "session":
            body = session_body(counter, args.users)
            path = f"/v2/customer_sessions/{prefix}-{counter}"
        else:
            body = make_body(args.mode, args.batch, prefix, counter, args.users)
        counter += 1
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {args.host}\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        writer.write(head + body)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        elapsed = time.perf_counter() - started
        status = int(status_line.split()[1])
        if status == 200:
            stats["ok"] += 1
            stats["latencies"].append(elapsed)
        else:
            stats["errors"][status] = stats["errors"].get(status, 0) + 1
    writer.close()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stats: dict[str, Any] = {"ok": 0, "errors": {}, "latencies": []}
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    stats["deadline"] = started + args.seconds
    await asyncio.gather(*(worker(args, i, stats) for i in range(args.connections)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    latencies = sorted(stats["latencies"])

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    per_request = args.batch if args.mode == "batch" else 1
    return {
        "mode": args.mode,
        "batch": per_request,
        "connections": args.connections,
        "seconds": round(elapsed, 3),
        "requests": stats["ok"],
        "requests_per_s": round(stats["ok"] / elapsed, 1),
        "events_per_s": round(stats["ok"] * per_request / elapsed, 1),
        "p50_ms": round(percentile(0.50), 2),
        "p99_ms": round(percentile(0.99), 2),
        "errors": stats["errors"],
        # CPU time of this process over the run, as a share of one core.
        "generator_cpu_percent": round(100 * cpu / elapsed, 1),
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--write-key", default="noop", help="the write key (session mode: the ApiKey-v1 key)"
    )
    parser.add_argument("--mode", choices=["track", "batch", "session"], default="track")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=10_000, help="distinct userIds")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(uvloop.run(main(parse()))))
