"""The storage reference: the same event rows inserted with the plain driver.

Patron's batched ingestion is compared with this: the load generator's events
as Patron stores them (same table, same indexes, built by Patron's
migrations), inserted 100 per transaction with one durable commit each —
sqlite3 ``executemany`` with Patron's pragmas, or psycopg ``COPY`` — from one
connection, for ``seconds``. It is what the database can take with no
identity resolution, no HTTP and no validation: the ceiling Patron's write
path works under.
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
from loadgen import VARIANTS, sample_messages

from patron.store.database import Database

# The columns Patron's tracking path writes, in the order of ``rows()``.
COLUMNS = (
    "workspace_id, customer_id, message_id, type, name, user_id, anonymous_id, "
    "timestamp, original_timestamp, sent_at, received_at, payload, segment_id, segment_group_id"
)
COPY = f"COPY events ({COLUMNS}) FROM STDIN"
# What Patron keeps in ``payload``: the call minus the fields that have columns.
IN_COLUMNS = {"messageId", "type", "userId", "anonymousId", "timestamp", "sentAt", "receivedAt"}


def _payload(document: dict[str, Any]) -> str:
    return json.dumps({key: value for key, value in document.items() if key not in IN_COLUMNS})


# The load generator's own events (loadgen.py), one per variant it cycles through.
EVENTS = [(document["event"], _payload(document)) for document in sample_messages(VARIANTS)]


def rows(batch: int, counter: int, workspace_id: str = "ws_bench") -> list[tuple[Any, ...]]:
    """Request ``counter``'s rows, as Patron stores the load generator's events."""
    text = datetime.now(UTC).isoformat(" ", "microseconds")[:26]
    found = []
    for i in range(batch):
        n = counter * batch + i
        name, payload = EVENTS[n % VARIANTS]
        user = n % 10_000
        found.append(
            (
                workspace_id,
                f"cust_{user}",
                str(uuid.uuid4()),
                "track",
                name,
                f"user-{user}",
                None,
                text,
                text,
                text,
                text,
                payload,
                1,  # the default segment, no group: what Patron stamps when none matches
                0,
            )
        )
    return found


def run_sqlite(path: str, batch: int, seconds: float) -> int:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
        connection.execute(f"PRAGMA {pragma}")
    insert = f"INSERT INTO events ({COLUMNS}) VALUES ({', '.join('?' * 14)})"
    done, counter, deadline = 0, 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(insert, rows(batch, counter))
        connection.execute("COMMIT")
        done += batch
        counter += 1
    connection.close()
    return done


def run_postgres(url: str, batch: int, seconds: float) -> int:
    done, counter, deadline = 0, 0, time.perf_counter() + seconds
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        while time.perf_counter() < deadline:
            with connection.cursor() as cursor, cursor.copy(COPY) as copy:
                for row in rows(batch, counter):
                    copy.write_row(row)
            connection.commit()
            done += batch
            counter += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="an empty database (migrated here)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    database = Database(args.url)
    database.migrate()
    database.dispose()
    started = time.perf_counter()
    if args.url.startswith("sqlite"):
        done = run_sqlite(args.url.removeprefix("sqlite:///"), args.batch, args.seconds)
    else:
        done = run_postgres(args.url, args.batch, args.seconds)
    elapsed = time.perf_counter() - started
    rate = round(done / elapsed, 1)
    print(json.dumps({"rows": done, "seconds": round(elapsed, 3), "rows_per_s": rate}))


if __name__ == "__main__":
    main()
