"""Fill a workspace with a year of history, fast: the set-up of "ingestion after N rows".

Writes ``--rows`` events and their customers (``--customers``, or ``max(10,000, rows / 100)``,
whose ``userId``s include the load generator's ``user-0`` … ``user-9999``)
with identities into a database Patron has migrated, with the plain driver:
psycopg ``COPY`` on PostgreSQL, sqlite3 ``executemany`` on SQLite, 200,000
rows per transaction. Every index Patron's migrations create stays in place
during the load, so the tables and their indexes end up as a long-running
Patron would have made them (message ids are random UUIDs, inserted in random
index order, as clients send them).

The rows are varied like a shop's traffic: 72% ``track`` calls of a dozen
event names with properties to match, 23% ``page`` calls, 5% ``identify``
calls, each with a browser context; timestamps rise through the year before
2026-11-22; customers sign up through the year and the earlier ones have more
events. Each event is stamped with the default segment (1, no group).

Only the load itself is not durable (SQLite: no journal and ``synchronous=OFF``,
back to write-ahead logging at the end; PostgreSQL: ``synchronous_commit =
off``): a crashed fill is thrown away. PostgreSQL loads with ``--jobs``
parallel ``COPY`` processes (2), and afterwards gets the ``VACUUM ANALYZE``
autovacuum would have run and a checkpoint, so that the measurement after the
fill does not pay for it. Prints one JSON line: rows, customers, seconds.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import psycopg

CHUNK = 200_000  # rows per transaction
PIECE = 5_000  # rows per COPY write
END = datetime(2026, 11, 22, tzinfo=UTC).timestamp()
SPAN = 365 * 86_400.0
START = END - SPAN
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # patron.ids: Crockford base32

FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
PLANS = ("free", "basic", "pro", "team")
COUNTRIES = ("DE", "FR", "GB", "SE", "NL", "ES", "IT", "PL")
CITIES = ("Berlin", "Paris", "London", "Stockholm", "Amsterdam", "Madrid", "Rome")
CATEGORIES = ("shoes", "shirts", "bags", "hats", "jackets", "socks", "watches", "belts")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
# Event names and their weights among track calls.
TRACKS = (
    ("Product Viewed", 30),
    ("Products Searched", 12),
    ("Product Added", 10),
    ("Email Opened", 10),
    ("Cart Viewed", 8),
    ("Signed In", 6),
    ("Checkout Started", 5),
    ("Order Completed", 4),
    ("Email Clicked", 4),
    ("Product Removed", 3),
    ("Coupon Applied", 2),
    ("Subscription Started", 1),
)
PAGES = ("Home", "Category", "Product", "Cart", "Checkout", "Blog", "Help", "Account")
POOL = 256  # distinct property and context documents per kind


def _uuid(bits: int) -> str:
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def _customer_id(created: float, rng: random.Random) -> str:
    """A Patron-shaped id (``cust_`` + 48 bits of milliseconds + 80 random bits)."""

    def base32(number: int, length: int) -> str:
        return "".join(ALPHABET[(number >> (5 * (length - 1 - i))) & 31] for i in range(length))

    return f"cust_{base32(int(created * 1000), 10)}{base32(rng.getrandbits(80), 16)}"


def _contexts(rng: random.Random) -> list[str]:
    contexts = []
    for n in range(POOL):
        category = CATEGORIES[n % 8]
        url = f"https://shop.example.com/{category}/sku-{rng.randrange(500)}"
        contexts.append(
            json.dumps(
                {
                    "ip": f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{n}",
                    "library": {"name": "analytics.js", "version": f"5.2.{n % 4}"},
                    "userAgent": AGENTS[n % len(AGENTS)],
                    "locale": ("de-DE", "en-GB", "fr-FR", "sv-SE")[n % 4],
                    "page": {"url": url, "path": url[24:], "referrer": "https://www.google.com/"},
                },
                separators=(",", ":"),
            )
        )
    return contexts


def _properties(name: str, rng: random.Random) -> list[str]:
    """Property documents for ``name`` (without the opening brace's order id)."""
    pool = []
    for n in range(POOL):
        sku, category = f"sku-{rng.randrange(500)}", CATEGORIES[n % 8]
        price = round(rng.uniform(5, 400), 2)
        properties: dict[str, Any]
        if name in ("Order Completed", "Checkout Started"):
            properties = {
                "total": round(price * (1 + n % 3), 2),
                "currency": ("EUR", "GBP", "SEK")[n % 3],
                "products": [{"sku": sku, "price": price, "quantity": 1 + n % 3}],
            }
        elif name.startswith("Product"):
            properties = {"sku": sku, "category": category, "price": price, "currency": "EUR"}
        elif name == "Products Searched":
            properties = {"query": f"{category} {('red', 'black', 'leather', 'sale')[n % 4]}"}
        elif name.startswith("Email"):
            properties = {"campaign": f"newsletter-{n % 40}", "link": f"/{category}"}
        elif name == "Coupon Applied":
            properties = {"coupon": f"SAVE{n % 30}", "discount": n % 30}
        elif name == "Subscription Started":
            properties = {"plan": PLANS[n % 4], "interval": ("month", "year")[n % 2]}
        else:
            properties = {"cart_id": f"cart-{rng.getrandbits(40):x}"} if "Cart" in name else {}
        pool.append(json.dumps(properties, separators=(",", ":"))[1:])  # without "{"
    return pool


def customers(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` customers signing up through the year; customer i has userId ``user-i``."""
    found = []
    for i in range(count):
        created = START + SPAN * i / count
        first, last = FIRST[i % len(FIRST)], LAST[(i // 7) % len(LAST)]
        attributes = {
            "plan": PLANS[i % 4],
            "newsletter": i % 3 == 0,
            "lifetime_value": round(rng.uniform(0, 5000), 2),
            "country": COUNTRIES[i % 8],
        }
        found.append(
            {
                "id": _customer_id(created, rng),
                "external_id": f"user-{i}",
                "anonymous_id": _uuid(rng.getrandbits(128)) if i % 2 else None,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{i}@example.com",
                "phone": f"+4930{i:08d}" if i % 4 == 0 else None,
                "birthdate": f"{1950 + i % 55}-{1 + i % 12:02d}-{1 + i % 28:02d}"
                if i % 5 == 0
                else None,
                "address": json.dumps({"city": CITIES[i % 7], "country": COUNTRIES[i % 8]})
                if i % 6 == 0
                else None,
                "city": CITIES[i % 7] if i % 6 == 0 else None,
                "attributes": json.dumps(attributes, separators=(",", ":")),
                "created": created,
            }
        )
    return found


def events(
    rows: int,
    people: list[dict[str, Any]],
    workspace: str,
    suffix: str,
    *,
    part: int = 0,
    parts: int = 1,
) -> Iterator[tuple[Any, ...]]:
    """Rows ``part``, ``part + parts``, … of ``rows``, oldest first, in Patron's column order.

    Timestamps are text (naive UTC, as Patron stores them on SQLite) + ``suffix``.
    """
    rng = random.Random(7 + part)
    contexts = _contexts(rng)
    names = [name for name, weight in TRACKS for _ in range(weight)]
    properties = {name: _properties(name, rng) for name, _ in TRACKS}
    page_properties = [
        json.dumps(
            {"title": f"{PAGES[n % 8]} | Shop", "path": f"/{CATEGORIES[n % 8]}/{n}"},
            separators=(",", ":"),
        )
        for n in range(POOL)
    ]
    identify_traits = [
        json.dumps({"plan": PLANS[n % 4], "country": COUNTRIES[n % 8]}, separators=(",", ":"))
        for n in range(POOL)
    ]
    first_created = people[0]["created"]
    per_customer = SPAN / len(people)
    pick, bits = rng.random, rng.getrandbits
    for j in range(part, rows, parts):
        moment = START + SPAN * j / rows
        joined = min(len(people) - 1, int((moment - first_created) / per_customer))
        person = people[int(pick() * (joined + 1))]
        stamp = datetime.fromtimestamp(moment, UTC).isoformat(" ", "microseconds")[:26] + suffix
        context = contexts[bits(8)]
        kind = pick()
        if kind < 0.72:
            name = names[bits(16) % len(names)]
            props = properties[name][bits(8)]
            if name == "Order Completed":
                props = f'"order_id":"o-{j}",{props}' if props != "}" else f'"order_id":"o-{j}"}}'
            payload = f'{{"event":"{name}","properties":{{{props},"context":{context}}}'
            row: tuple[str, str | None, str | None] = ("track", name, None)
        elif kind < 0.95:
            page = PAGES[bits(3)]
            payload = (
                f'{{"name":"{page}","properties":{page_properties[bits(8)]},"context":{context}}}'
            )
            row = ("page", page, person["anonymous_id"])
        else:
            payload = f'{{"traits":{identify_traits[bits(8)]},"context":{context}}}'
            row = ("identify", None, person["anonymous_id"])
        yield (
            workspace,
            person["id"],
            _uuid(bits(128)),
            row[0],
            row[1],
            person["external_id"],
            row[2],
            stamp,
            stamp,
            stamp,
            stamp,
            payload,
            1,
            0,
        )


EVENT_COLUMNS = (
    "workspace_id, customer_id, message_id, type, name, user_id, anonymous_id, "
    "timestamp, original_timestamp, sent_at, received_at, payload, segment_id, segment_group_id"
)
CUSTOMER_COLUMNS = (
    "id, workspace_id, external_id, name, email, phone, birthdate, address, description, "
    "attributes, merged_into, created_at, updated_at, city"
)
IDENTITY_COLUMNS = "workspace_id, kind, value, customer_id, created_at"
COPY_EVENTS = f"COPY events ({EVENT_COLUMNS}) FROM STDIN"


def _moment(seconds: float, suffix: str) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(" ", "microseconds")[:26] + suffix


def _customer_rows(
    people: list[dict[str, Any]], workspace: str, suffix: str
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rows, identities = [], []
    for p in people:
        created = _moment(p["created"], suffix)
        rows.append(
            (
                p["id"],
                workspace,
                p["external_id"],
                p["name"],
                p["email"],
                p["phone"],
                p["birthdate"],
                p["address"],
                None,
                p["attributes"],
                None,
                created,
                created,
                p["city"],
            )
        )
        identities.append((workspace, "user_id", p["external_id"], p["id"], created))
        if p["anonymous_id"]:
            identities.append((workspace, "anonymous_id", p["anonymous_id"], p["id"], created))
    return rows, identities


def _chunked(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fill_sqlite(path: str, rows: int, people: list[dict[str, Any]], workspace: str) -> float:
    """Load everything; return the seconds the return to write-ahead logging took."""
    connection = sqlite3.connect(path, isolation_level=None)
    # No journal while loading (a failed fill is thrown away), 4 GB of page cache.
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-4194304"):
        connection.execute(f"PRAGMA {pragma}")
    customer_rows, identities = _customer_rows(people, workspace, "")
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES ({'?,' * 13}?)", customer_rows
    )
    connection.executemany(
        f"INSERT INTO identities ({IDENTITY_COLUMNS}) VALUES (?,?,?,?,?)", identities
    )
    connection.execute("COMMIT")
    insert = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES ({'?,' * 13}?)"
    for chunk in _chunked(events(rows, people, workspace, ""), CHUNK):
        connection.execute("BEGIN")
        connection.executemany(insert, chunk)
        connection.execute("COMMIT")
    started = time.perf_counter()
    connection.execute("PRAGMA journal_mode=WAL")  # Patron's mode, kept in the file
    connection.close()
    return time.perf_counter() - started


def _copy_text(row: tuple[Any, ...]) -> str:
    # COPY's text format; the generated values hold no tab, newline or backslash.
    return "\t".join("\\N" if value is None else str(value) for value in row) + "\n"


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def copy_events(
    url: str, rows: int, people: list[dict[str, Any]], workspace: str, *, part: int, parts: int
) -> None:
    """One loader's share of the events: every ``parts``-th row, by COPY."""
    with _connect(url) as connection:
        connection.execute("SET synchronous_commit = off")
        generated = events(rows, people, workspace, "+00", part=part, parts=parts)
        mine = len(range(part, rows, parts))
        for start in range(0, mine, CHUNK):
            # Written in pieces, so the server parses while this process generates.
            with connection.cursor() as cursor, cursor.copy(COPY_EVENTS) as copy:
                for piece in _chunked(islice(generated, min(CHUNK, mine - start)), PIECE):
                    copy.write("".join(map(_copy_text, piece)))
            connection.commit()


def fill_postgres(
    url: str, rows: int, people: list[dict[str, Any]], workspace: str, jobs: int
) -> float:
    """Load everything; return the seconds VACUUM ANALYZE and the checkpoint took."""
    with _connect(url) as connection:
        customer_rows, identities = _customer_rows(people, workspace, "+00")
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY customers ({CUSTOMER_COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(map(_copy_text, customer_rows)))
            with cursor.copy(f"COPY identities ({IDENTITY_COLUMNS}) FROM STDIN") as copy:
                copy.write("".join(map(_copy_text, identities)))
        connection.commit()
    # Several loaders (each a process and a server backend) keep the cores busy.
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        loaders = [
            pool.submit(copy_events, url, rows, people, workspace, part=part, parts=jobs)
            for part in range(jobs)
        ]
        for loader in loaders:
            loader.result()
    started = time.perf_counter()
    with _connect(url) as connection:
        connection.autocommit = True
        for table in ("events", "customers", "identities"):
            connection.execute(f"VACUUM ANALYZE {table}")
        connection.execute("CHECKPOINT")
    return time.perf_counter() - started


def database_mb(url: str) -> float:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        total = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
        return round(total / 2**20, 1)
    with _connect(url) as connection:
        size = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        return round((size[0] if size else 0) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="a database Patron has migrated")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument(
        "--customers", type=int, default=0, help="customers (default: max(10,000, rows / 100))"
    )
    parser.add_argument("--workspace-id", required=True)
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallel COPY loaders (PostgreSQL; SQLite takes one)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    people = customers(args.customers or max(10_000, args.rows // 100), random.Random(1))
    if args.url.startswith("sqlite"):
        finish = fill_sqlite(
            args.url.removeprefix("sqlite:///"), args.rows, people, args.workspace_id
        )
    else:
        finish = fill_postgres(args.url, args.rows, people, args.workspace_id, args.jobs)
    elapsed = time.perf_counter() - started
    result = {
        "rows": args.rows,
        "customers": len(people),
        "seconds": round(elapsed, 1),
        "rows_per_s": round(args.rows / elapsed, 1) if args.rows else None,
        "finish_seconds": round(finish, 1),
        "database_mb": database_mb(args.url),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
