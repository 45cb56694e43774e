"""A load generator for the tracking API, run as its own process.

Keeps ``--connections`` HTTP/1.1 keep-alive connections busy for
``--seconds``, each request carrying fresh ``messageId``s (so Patron's dedupe
never short-cuts the work), and prints one JSON line of results. Written on
raw asyncio streams (with uvloop) rather than an HTTP client library so that
one core of load generation outruns the server under test.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import time
from typing import Any

import uvloop


def make_body(mode: str, batch: int, prefix: str, counter: int, users: int) -> bytes:
    def message(n: int) -> str:
        user = n % users
        return (
            f'{{"type":"track","messageId":"{prefix}-{n}","userId":"user-{user}",'
            f'"event":"Order Completed","properties":{{"order_id":"o-{n}","total":{n % 997}.5,'
            f'"currency":"EUR","products":[{{"sku":"sku-{n % 31}","quantity":1}}]}},'
            f'"context":{{"ip":"10.0.0.{n % 250}","library":{{"name":"loadgen","version":"1"}}}},'
            f'"timestamp":"2026-11-22T10:00:00.000Z"}}'
        )

    if mode == "track":
        return message(counter).encode()
    start = counter * batch
    items = ",".join(message(start + i) for i in range(batch))
    return f'{{"batch":[{items}],"sentAt":"2026-11-22T10:00:01.000Z"}}'.encode()


async def worker(args: argparse.Namespace, worker_id: int, stats: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection(args.host, args.port)
    auth = base64.b64encode(f"{args.write_key}:".encode()).decode()
    path = "/v1/track" if args.mode == "track" else "/v1/batch"
    prefix = f"{os.getpid()}-{worker_id}-{time.time_ns()}"
    counter = 0
    deadline = stats["deadline"]
    while time.perf_counter() < deadline:
        body = make_body(args.mode, args.batch, prefix, counter, args.users)
        counter += 1
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {args.host}\r\nAuthorization: Basic {auth}\r\n"
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


async def main(args: argparse.Namespace) -> dict[str, Any]:
    stats: dict[str, Any] = {"ok": 0, "errors": {}, "latencies": []}
    started = time.perf_counter()
    stats["deadline"] = started + args.seconds
    await asyncio.gather(*(worker(args, i, stats) for i in range(args.connections)))
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"])

    def percentile(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    per_request = 1 if args.mode == "track" else args.batch
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
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--write-key", default="noop")
    parser.add_argument("--mode", choices=["track", "batch"], default="track")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=10_000, help="distinct userIds")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(uvloop.run(main(parse()))))
