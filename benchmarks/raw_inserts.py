"""The storage reference: the same event rows inserted with the plain driver.

Patron's batched ingestion is compared with this: rows shaped like Patron's
events (same table, same indexes, built by Patron's migrations), inserted 100
per transaction with one durable commit each — sqlite3 ``executemany`` with
Patron's pragmas, or psycopg ``COPY`` — from one connection, for ``seconds``.
It is what the database can take with no identity resolution, no HTTP and no
validation: the ceiling Patron's write path works under.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from patron.store.database import Database

# The columns Patron's tracking path writes, in the order of ``rows()``.
COLUMNS = (
    "workspace_id, customer_id, message_id, type, name, user_id, anonymous_id, "
    "timestamp, original_timestamp, sent_at, received_at, payload"
)


COPY = f"COPY events ({COLUMNS}) FROM STDIN"


def rows(batch: int, counter: int, workspace_id: str = "ws_bench") -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    text = now.isoformat(" ", "microseconds")[:26]
    payload = json.dumps(
        {
            "event": "Order Completed",
            "properties": {"order_id": f"o-{counter}", "total": 1.5, "currency": "EUR"},
            "context": {"ip": "10.0.0.1", "library": {"name": "loadgen", "version": "1"}},
        }
    )
    return [
        (
            workspace_id,
            f"cust_{(counter * batch + i) % 10_000}",
            str(uuid.uuid4()),
            "track",
            "Order Completed",
            f"user-{i}",
            None,
            text,
            text,
            text,
            text,
            payload,
        )
        for i in range(batch)
    ]


def run_sqlite(path: str, batch: int, seconds: float, limit: int, workspace: str) -> int:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
        connection.execute(f"PRAGMA {pragma}")
    insert = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * 12)})"
    done, counter, deadline = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline and done < limit:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(insert, rows(batch, counter, workspace))
        connection.execute("COMMIT")
        done += batch
        counter += 1
    connection.close()
    return done


def run_postgres(url: str, batch: int, seconds: float, limit: int, workspace: str) -> int:
    done, counter, deadline = 0, 0, time.perf_counter() + seconds
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        while time.perf_counter() < deadline and done < limit:
            with connection.cursor() as cursor, cursor.copy(COPY) as copy:
                for row in rows(batch, counter, workspace):
                    copy.write_row(row)
            connection.commit()
            done += batch
            counter += 1
        if limit < 2**62:  # a prefill: give the planner statistics, as autovacuum would
            connection.execute("ANALYZE events")
            connection.commit()
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="an empty database (migrated here)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--rows", type=int, default=2**62, help="stop after this many rows (to prefill a table)"
    )
    parser.add_argument("--workspace-id", default="ws_bench")
    args = parser.parse_args()
    database = Database(args.url)
    database.migrate()
    database.dispose()
    started = time.perf_counter()
    run = run_sqlite if args.url.startswith("sqlite") else run_postgres
    target = args.url.removeprefix("sqlite:///") if args.url.startswith("sqlite") else args.url
    done = run(target, args.batch, args.seconds, args.rows, args.workspace_id)
    elapsed = time.perf_counter() - started
    rate = round(done / elapsed, 1)
    print(json.dumps({"rows": done, "seconds": round(elapsed, 3), "rows_per_s": rate}))


if __name__ == "__main__":
    main()
