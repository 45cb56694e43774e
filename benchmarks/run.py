"""Run Patron's benchmarks and print each figure beside its reference, with the ratio.

Every scenario runs the load generator (``loadgen.py``) in its own process
against a real server process: Patron, and a no-op ASGI endpoint on the same
uvicorn stack measured in the same run. See README.md in this folder.

The scenarios are a registry (``SCENARIOS``): each measures, stores its raw
figures under ``results[target][name]`` and adds the rows it can compare to
the table. Adding a measurement is adding a function and a ``Scenario``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import event_segments
import httpx
from promotions_eval import rules_for
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WRITE_KEY = "bench-write-key-0123456789"
POSTGRES_ADMIN = os.environ.get(
    "PATRON_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


# -- processes -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


@contextmanager
def server(command: list[str], port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    # A first start writes the default workspace's keys to a file: not into the work tree.
    with tempfile.TemporaryDirectory() as keys:
        env = {**os.environ, "PATRON_KEYS_DIR": keys, **env}
        process = subprocess.Popen(command, env=env, cwd=HERE.parent)
        try:
            wait_until_up(port, process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database of ``kind``; its URL. Removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"patron_bench_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_json(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a helper process that prints one JSON object; return it."""
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def proc_status(pid: int, name: str) -> float:
    """A memory figure of ``/proc/PID/status`` (Linux), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- load --------------------------------------------------------------------------


def load(
    port: int,
    mode: str,
    args: argparse.Namespace,
    seconds: float,
    generators: int = 1,
    *,
    key: str = WRITE_KEY,
) -> dict[str, Any]:
    """Drive ``port`` from ``generators`` load generator processes at once; their sums."""
    per_process = max(1, args.connections // generators)
    commands = [
        [
            sys.executable,
            str(HERE / "loadgen.py"),
            f"--port={port}",
            f"--write-key={key}",
            f"--mode={mode}",
            f"--batch={args.batch}",
            f"--connections={per_process}",
            f"--seconds={seconds}",
        ]
        for _ in range(generators)
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for command in commands
    ]
    outputs = []
    for process in processes:
        stdout, _ = process.communicate()
        if process.returncode:
            raise RuntimeError(f"loadgen exited with {process.returncode}")
        outputs.append(json.loads(stdout))
    if generators == 1:
        result: dict[str, Any] = outputs[0]
        result["generator_cpu_percent"] = [result["generator_cpu_percent"]]
        return result
    errors: dict[str, int] = {}
    for output in outputs:
        for status, count in output["errors"].items():
            errors[status] = errors.get(status, 0) + count
    return {
        "mode": mode,
        "batch": outputs[0]["batch"],
        "connections": per_process * generators,
        "generators": generators,
        "seconds": max(output["seconds"] for output in outputs),
        "requests": sum(output["requests"] for output in outputs),
        "requests_per_s": round(sum(output["requests_per_s"] for output in outputs), 1),
        "events_per_s": round(sum(output["events_per_s"] for output in outputs), 1),
        # Latencies of separate processes do not merge exactly: the worst of them.
        "p50_ms": max(output["p50_ms"] for output in outputs),
        "p99_ms": max(output["p99_ms"] for output in outputs),
        "errors": errors,
        "generator_cpu_percent": [output["generator_cpu_percent"] for output in outputs],
    }


def measure(
    port: int,
    mode: str,
    args: argparse.Namespace,
    process: subprocess.Popen[bytes],
    generators: int = 1,
    *,
    key: str = WRITE_KEY,
) -> dict[str, Any]:
    """Warm up, then measure ``mode``; add the server's CPU share and memory."""
    load(port, mode, args, args.warmup, generators, key=key)  # warm up caches and pools
    cpu, started = cpu_seconds(process.pid), time.perf_counter()
    result = load(port, mode, args, args.seconds, generators, key=key)
    busy = cpu_seconds(process.pid) - cpu
    result["server_cpu_percent"] = round(100 * busy / (time.perf_counter() - started), 1)
    result["server_rss_mb"] = proc_status(process.pid, "VmRSS")  # right after the load
    result["server_peak_rss_mb"] = proc_status(process.pid, "VmHWM")
    return result


# -- Patron ------------------------------------------------------------------------


@dataclass
class Patron:
    """A running ``patron serve`` on a fresh database with one workspace."""

    kind: str
    url: str
    port: int
    process: subprocess.Popen[bytes]
    workspace_id: str
    igrp: int
    config_key: str
    fill: dict[str, Any] | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def measure(self, mode: str, args: argparse.Namespace, key: str = WRITE_KEY) -> dict[str, Any]:
        return measure(self.port, mode, args, self.process, key=key)


@contextmanager
def patron(kind: str, prefill: int = 0) -> Iterator[Patron]:
    """Patron on a fresh database; with ``prefill``, its events table first holds that many rows."""
    with database(kind) as url:
        env = {"PATRON_DATABASE_URL": url, "PATRON_LOG_LEVEL": "warning"}
        command = [str(BIN / "patron"), "workspace", "create", "bench", f"--write-key={WRITE_KEY}"]
        created = run_json([*command, "--json"], env)
        fill = None
        if prefill:
            fill = run_json(
                [
                    sys.executable,
                    str(HERE / "prefill.py"),
                    f"--url={url}",
                    f"--rows={prefill}",
                    f"--workspace-id={created['id']}",
                ]
            )
        port = free_port()
        serve = [str(BIN / "patron"), "serve", f"--port={port}"]
        with server(serve, port, env) as process:
            yield Patron(
                kind=kind,
                url=url,
                port=port,
                process=process,
                workspace_id=created["id"],
                igrp=int(created["igrp"]),
                config_key=created["credentials"]["config_api_key"],
                fill=fill,
            )


# -- the table ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table: a Patron figure beside the reference measured in the same run."""

    scenario: str
    database: str
    patron: float
    unit: str
    reference: float | None = None
    reference_label: str = ""
    goal: float | None = None  # the ratio issue 7 aims for (at least)
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        return self.patron / self.reference if self.reference else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": None if self.ratio is None else round(self.ratio, 3)}


def amount(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def percent(value: float | None, prefix: str = "") -> str:
    return "—" if value is None else f"{prefix}{value:.0%}"


def _seconds(figures: dict[str, Any]) -> str:
    """A measurement's rounds, as "1.2/1.0/1.1 s"."""
    return (
        "/".join(f"{seconds:.2f}" for seconds in figures.get("rounds", [figures["seconds"]])) + " s"
    )


def cpu_note(figures: dict[str, Any]) -> str:
    generator = "+".join(f"{cpu:.0f}%" for cpu in figures["generator_cpu_percent"])
    return f"CPU: Patron {figures['server_cpu_percent']:.0f}%, generator {generator}"


def latency_note(figures: dict[str, Any]) -> str:
    return f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"


# -- scenarios ---------------------------------------------------------------------


@dataclass
class Bench:
    """One run: its options, the raw figures of every scenario, and the table's rows."""

    args: argparse.Namespace
    results: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    generator_check: list[dict[str, Any]] = field(default_factory=list)

    def store(self, target: str, name: str, figures: dict[str, Any]) -> None:
        self.results.setdefault(target, {})[name] = figures

    def noop_best(self, mode: str) -> float:
        """The no-op endpoint's best rate (events/s) with one or two generator processes."""
        runs: dict[str, dict[str, float]] = self.results["noop"][mode]
        return max(figures["events_per_s"] for figures in runs.values())


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    per_database: bool
    run: Callable[[Bench, str], None]  # (bench, database kind or "") -> stores figures, adds rows
    needs: tuple[str, ...] = ()
    enabled: Callable[[argparse.Namespace], bool] = lambda _args: True


def noop_scenario(bench: Bench, _kind: str) -> None:
    """The no-op endpoint with one and with two generator processes: the HTTP reference.

    It also shows what one generator process can produce: if two processes got
    much more out of the no-op endpoint than one, one would be a limit.
    """
    args = bench.args
    port = free_port()
    command = [
        str(BIN / "uvicorn"),
        "benchmarks.noop_app:app",
        f"--port={port}",
        "--no-access-log",
        "--log-level=warning",
    ]
    figures: dict[str, dict[str, Any]] = {"track": {}, "batch": {}}
    with server(command, port, {}) as process:
        for mode in ("track", "batch"):
            for generators in (1, 2):
                result = measure(port, mode, args, process, generators)
                figures[mode][f"{generators}_generators"] = result
                bench.generator_check.append(
                    {
                        "target": "no-op endpoint",
                        "mode": mode,
                        "generators": generators,
                        "requests_per_s": result["requests_per_s"],
                        "events_per_s": result["events_per_s"],
                        "generator_cpu_percent": result["generator_cpu_percent"],
                        "server_cpu_percent": result["server_cpu_percent"],
                    }
                )
    for mode, runs in figures.items():
        bench.store("noop", mode, runs)


def ingest_scenario(bench: Bench, kind: str) -> None:
    """/v1/track and /v1/batch on a fresh database, and the raw-insert reference."""
    args = bench.args
    with patron(kind) as server_:
        track = server_.measure("track", args)
        batch = server_.measure("batch", args)
    with database(kind) as url:
        raw = run_json(
            [
                sys.executable,
                str(HERE / "raw_inserts.py"),
                f"--url={url}",
                f"--batch={args.batch}",
                f"--seconds={args.seconds}",
            ]
        )
    bench.store(kind, "ingest", {"track": track, "batch": batch, "raw_inserts": raw})
    name = NAMES[kind]
    noop_track = bench.noop_best("track")
    bench.rows.append(
        Row(
            "/v1/track, 1 event per request, durable ack",
            name,
            track["requests_per_s"],
            "req/s",
            noop_track,
            "no-op endpoint, same stack",
            0.5,
            f"{latency_note(track)}; {cpu_note(track)}",
        )
    )
    noop_batch, raw_rate = bench.noop_best("batch"), raw["rows_per_s"]
    if raw_rate <= noop_batch:
        label = f"raw driver inserts (no-op: {noop_batch:,.0f} events/s)"
    else:
        label = f"no-op endpoint (raw inserts: {raw_rate:,.0f} rows/s)"
    bench.rows.append(
        Row(
            f"/v1/batch, {args.batch} events per request, durable ack",
            name,
            batch["events_per_s"],
            "events/s",
            min(noop_batch, raw_rate),
            label,
            0.5,
            f"{latency_note(batch)}; {cpu_note(batch)}",
        )
    )
    bench.rows.append(
        Row(
            "server memory under sustained load (peak RSS)",
            name,
            batch["server_peak_rss_mb"],
            "MB",
            notes=f"after {2 * (args.warmup + args.seconds):g} s of track and batch load",
        )
    )


def stamped_share(url: str, workspace_id: str, first_id: int) -> float | None:
    """Share of the workspace's events after ``first_id`` stamped with a segment other than 1."""
    query = (
        "SELECT count(*), count(CASE WHEN segment_id > 1 THEN 1 END) FROM events"
        " WHERE workspace_id = :workspace AND id > :first"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            total, stamped = connection.execute(
                text(query), {"workspace": workspace_id, "first": first_id}
            ).one()
    finally:
        engine.dispose()
    return stamped / total if total else None


def last_event_id(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT coalesce(max(id), 0) FROM events")).one()[0])
    finally:
        engine.dispose()


def segments_scenario(bench: Bench, kind: str) -> None:
    """/v1/batch with N event segments defined, between two runs with none (same server)."""
    args = bench.args
    with patron(kind) as server_:
        before = server_.measure("batch", args)
        started = time.perf_counter()
        ids = event_segments.create(
            server_.base_url, server_.igrp, server_.config_key, args.segments
        )
        created_s = time.perf_counter() - started
        first = last_event_id(server_.url)
        with_segments = server_.measure("batch", args)
        share = stamped_share(server_.url, server_.workspace_id, first)
        event_segments.delete(server_.base_url, server_.igrp, server_.config_key, ids)
        after = server_.measure("batch", args)
    bench.store(
        kind,
        "segments",
        {
            "segments": args.segments,
            "created_seconds": round(created_s, 2),
            "without_before": before,
            "with_segments": with_segments,
            "without_after": after,
            "stamped_share": share,
        },
    )
    reference = statistics.mean([before["events_per_s"], after["events_per_s"]])
    if not share:
        stamped = "no event stamped with a segment: this server does not classify events yet"
    else:
        stamped = f"{share:.1%} of events stamped with a segment of their own"
    bench.rows.append(
        Row(
            f"/v1/batch with {args.segments} event segments",
            NAMES[kind],
            with_segments["events_per_s"],
            "events/s",
            reference,
            f"0 segments, same server (mean of {before['events_per_s']:,.0f} before "
            f"and {after['events_per_s']:,.0f} after)",
            0.9,
            f"{stamped}; {cpu_note(with_segments)}",
        )
    )


def prefill_scenario(bench: Bench, kind: str) -> None:
    """/v1/batch once the events table holds --prefill rows, then on an empty table at once."""
    args = bench.args
    with patron(kind, prefill=args.prefill) as server_:
        assert server_.fill is not None
        fill = server_.fill
        full = server_.measure("batch", args)
        script = [sys.executable, str(HERE / "customer_segments.py"), f"--url={server_.url}"]
        behaviour = run_json(
            [*script, f"--workspace-id={server_.workspace_id}", "--customers=0", "--behaviour"]
        )
    with patron(kind) as server_:  # the reference, measured right after
        empty = server_.measure("batch", args)
    bench.store(
        kind,
        "prefill",
        {"fill": fill, "batch": full, "batch_empty_table": empty, "behaviour": behaviour},
    )
    minutes, seconds = divmod(fill["seconds"], 60)
    bench.rows.append(
        Row(
            f"/v1/batch after {args.prefill:,} rows",
            NAMES[kind],
            full["events_per_s"],
            "events/s",
            empty["events_per_s"],
            "empty table, measured right after",
            0.8,
            f"fill: {int(minutes)} min {seconds:.0f} s ({fill['rows_per_s']:,.0f} rows/s, "
            f"{fill['customers']:,} customers, {fill['database_mb']:,.0f} MB); "
            f"{cpu_note(full)}",
        )
    )
    customers = fill["customers"]
    bench.rows.append(
        backfill_row(
            kind,
            f"behavioural segment backfill, {customers:,} customers, {args.prefill:,} events",
            customers,
            behaviour,
            "plain SQL: a correlated count of each customer's events",
            before="2+ orders in 30 days: ",
        )
    )


def backfill_row(
    kind: str,
    scenario: str,
    customers: int,
    figures: dict[str, Any],
    reference: str,
    *,
    before: str = "",
    after: str = "",
) -> Row:
    """A passive segment's backfill (customers/s) against its plain query (``scan``).

    ``before`` and ``after``: what the notes say around the members and seconds.
    """
    scan, passive = figures["scan"], figures["backfill_passive"]
    return Row(
        scenario,
        NAMES[kind],
        customers / passive["seconds"],
        "customers/s",
        customers / scan["seconds"],
        reference,
        0.5,
        f"{before}{passive['members']:,} members in {passive['seconds']:.2f} s (scan "
        f"{scan['seconds']:.2f} s; medians of {_seconds(passive)} and {_seconds(scan)}){after}",
    )


def customers_scenario(bench: Bench, kind: str) -> None:
    """Customer segments and lists over --customers customers (customer_segments.py)."""
    count = bench.args.customers
    with database(kind) as url:
        env = {"PATRON_DATABASE_URL": url, "PATRON_LOG_LEVEL": "warning"}
        created = run_json([str(BIN / "patron"), "workspace", "create", "bench", "--json"], env)
        workspace = f"--workspace-id={created['id']}"
        prefill = [sys.executable, str(HERE / "prefill.py"), f"--url={url}", "--rows=0"]
        fill = run_json([*prefill, workspace, f"--customers={count}"])
        script = [sys.executable, str(HERE / "customer_segments.py"), f"--url={url}", workspace]
        figures = run_json([*script, f"--customers={count}"])
    bench.store(kind, "customers", {"fill": fill, **figures})
    auto = figures["backfill_auto_update"]
    bench.rows.append(
        backfill_row(
            kind,
            f"segment backfill over {count:,} customers",
            count,
            figures,
            "plain SQL scan, same JSON predicate",
            after=f"; auto-update with entered records {auto['seconds']:.2f} s",
        )
    )
    again = figures["reevaluate"]
    bench.rows.append(
        Row(
            "re-evaluate one profile, 100 customer segments",
            NAMES[kind],
            again["matching_us"],
            "µs",
            notes=f"update_customer p50 {again['update_with_100']['p50_ms']:.1f} ms with 100 "
            f"segments, {again['update_with_0']['p50_ms']:.1f} ms with none",
        )
    )
    listing = figures["list_customers"]
    others = ", ".join(
        f"{name} {v['p50_ms']:.1f}/{v['p95_ms']:.1f}"
        for name, v in listing.items()
        if isinstance(v, dict) and name != "email"
    )
    bench.rows.append(
        Row(
            f"list_customers?email= at {count:,} customers",
            NAMES[kind],
            listing["email"]["p50_ms"],
            "ms p50",
            notes=f"p95 {listing['email']['p95_ms']:.1f} ms; p50/p95 ms: {others}",
        )
    )


def promotions_scenario(bench: Bench, _kind: str) -> None:
    """The rule engine in-process: one session against 100 campaigns of 5 rules, and none."""
    smoke = ["--smoke"] if bench.args.smoke else []
    figures = run_json([sys.executable, str(HERE / "promotions_eval.py"), "--json", *smoke])
    bench.store("engine", "promotions", figures)
    campaigns, rules = figures["campaigns"], figures["rules_per_campaign"]
    bench.rows.append(
        Row(
            f"evaluate a session, {campaigns} campaigns x {rules} rules",
            "—",
            figures["us_per_session"],
            "µs CPU",
            notes=f"0 campaigns: {figures['us_per_session_no_campaigns']} µs "
            f"({figures['ratio']}x); {figures['us_per_rule']} µs per rule; without failure "
            f"reasons {figures['us_per_session_without_reasons']} µs; compiling once "
            f"{figures['compile_ms']} ms; median {figures['median_us_per_session']} µs",
        )
    )


def sessions_scenario(bench: Bench, kind: str) -> None:
    """PUT /v2/customer_sessions with 100 campaigns x 5 rules and with none, beside /v1/track."""
    args = bench.args
    with patron(kind) as server_, tempfile.TemporaryDirectory() as folder:
        setup = Path(folder) / "promotions.json"
        setup.write_text(json.dumps(promotions_setup(args.campaigns)))
        env = {"PATRON_DATABASE_URL": server_.url, "PATRON_LOG_LEVEL": "warning"}
        apply = [str(BIN / "patron"), "promotions", "apply", str(setup), "--workspace", "bench"]
        keys = {
            i["application"]: i["integrationKey"]
            for i in run_json([*apply, "--json"], env)["issued"]
        }
        track = server_.measure("track", args)
        # Paired rounds: the two figures of a round are measured back to back, so they
        # see the same machine (a shared one's speed drifts by a third from minute to
        # minute). The figures shown are the round whose ratio is the median.
        rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for _ in range(1 if args.smoke else SESSION_ROUNDS):
            empty = server_.measure("session", args, keys["none"])
            rounds.append((empty, server_.measure("session", args, keys["busy"])))
    empty, busy = median_pair(rounds)
    bench.store(
        kind,
        "sessions",
        {"track": track, "no_campaigns": empty, "campaigns": busy, "rounds": rounds},
    )
    bench.rows.append(
        Row(
            f"PUT /v2/customer_sessions, {args.campaigns} campaigns x 5 rules",
            NAMES[kind],
            busy["requests_per_s"],
            "req/s",
            empty["requests_per_s"],
            "the same updates, 0 campaigns",
            0.5,
            f"{latency_note(busy)} (0 campaigns: {latency_note(empty)}); ratio of each round "
            f"{round_ratios(rounds)}; /v1/track {track['requests_per_s']:,.0f} req/s in the "
            f"same run; {cpu_note(busy)}",
        )
    )


SESSION_ROUNDS = 5


def round_ratios(rounds: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    return ", ".join(
        f"{measured['requests_per_s'] / max(reference['requests_per_s'], 1e-9):.0%}"
        for reference, measured in rounds
    )


def median_pair(
    rounds: list[tuple[dict[str, Any], dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (reference, measured) round whose ratio of requests/s is the median."""

    def ratio(pair: tuple[dict[str, Any], dict[str, Any]]) -> float:
        reference, measured = pair
        return float(measured["requests_per_s"]) / max(float(reference["requests_per_s"]), 1e-9)

    return sorted(rounds, key=ratio)[len(rounds) // 2]


def promotions_setup(campaigns: int) -> dict[str, Any]:
    """A ``patron promotions apply`` document: an application with no campaign, and one with
    ``campaigns`` campaigns of the in-process benchmark's five kinds of rules."""
    busy = [
        {"name": f"Campaign {index}", "priority": index % 7, "rules": rules_for(index, 5)}
        for index in range(campaigns)
    ]
    return {"applications": [{"name": "none"}, {"name": "busy", "campaigns": busy}]}


# The registry, in running order.
SCENARIOS = (
    Scenario("noop", per_database=False, run=noop_scenario),
    Scenario("ingest", per_database=True, run=ingest_scenario, needs=("noop",)),
    Scenario(
        "segments",
        per_database=True,
        run=segments_scenario,
        enabled=lambda args: args.segments > 0,
    ),
    Scenario(
        "prefill",
        per_database=True,
        run=prefill_scenario,
        enabled=lambda args: args.prefill > 0,
    ),
    Scenario(
        "customers",
        per_database=True,
        run=customers_scenario,
        enabled=lambda args: args.customers > 0,
    ),
    Scenario("promotions", per_database=False, run=promotions_scenario),
    Scenario(
        "sessions",
        per_database=True,
        run=sessions_scenario,
        enabled=lambda args: args.campaigns > 0,
    ),
)


def selected(names: list[str] | None, args: argparse.Namespace) -> list[Scenario]:
    """The scenarios to run: those named (all by default) and what they need, in order."""
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    wanted = set(names or by_name)
    pending = list(wanted)
    while pending:
        for need in by_name[pending.pop()].needs:
            if need not in wanted:
                wanted.add(need)
                pending.append(need)
    return [s for s in SCENARIOS if s.name in wanted and s.enabled(args)]


# -- output ------------------------------------------------------------------------


def row_cells(row: Row) -> list[str]:
    """One table row as text: the same cells in the terminal table and the Markdown."""
    reference = amount(row.reference, row.unit)
    return [
        row.scenario,
        row.database,
        amount(row.patron, row.unit),
        f"{reference}, {row.reference_label}" if row.reference else "—",
        percent(row.ratio),
        percent(row.goal, "≥ "),
        row.notes,
    ]


def report(bench: Bench, console: Console) -> None:
    args = bench.args
    table = Table(
        title=f"Patron against references measured in the same run "
        f"({args.seconds:g} s per figure, {args.connections} connections)"
    )
    for column in ("scenario", "database", "Patron", "reference", "ratio", "goal", "notes"):
        table.add_column(column, justify="right" if column in ("ratio", "goal") else "left")
    for row in bench.rows:
        table.add_row(*row_cells(row))
    console.print(table)
    if bench.generator_check:
        check = Table(title="Is the load generator the limit? (no-op endpoint)")
        for column in ("mode", "generator processes", "requests/s", "events/s", "CPU"):
            check.add_column(column)
        for item in bench.generator_check:
            generator = "+".join(f"{cpu:.0f}%" for cpu in item["generator_cpu_percent"])
            check.add_row(
                item["mode"],
                str(item["generators"]),
                f"{item['requests_per_s']:,.0f}",
                f"{item['events_per_s']:,.0f}",
                f"server {item['server_cpu_percent']:.0f}%, generator {generator}",
            )
        console.print(check)
    errors = [
        f"{target} {scenario}"
        for target, scenarios in bench.results.items()
        if target != "meta"
        for scenario, figures in scenarios.items()
        if has_errors(figures)
    ]
    if errors:
        console.print(f"[yellow]non-200 answers in:[/yellow] {', '.join(errors)}")


def has_errors(figures: Any) -> bool:
    """Whether any load generator run in ``figures`` got answers other than 200."""
    if not isinstance(figures, dict):
        return False
    if figures.get("errors"):
        return True
    return any(has_errors(value) for value in figures.values())


def markdown(bench: Bench) -> str:
    """The table as Markdown, for benchmarks/README.md."""
    lines = [
        "| scenario | database | Patron | reference | ratio | goal | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in bench.rows:
        lines.append("| " + " | ".join(row_cells(row)) + " |")
    lines += [
        "",
        "| no-op endpoint | generator processes | requests/s | events/s | CPU |",
        "|---|---|---|---|---|",
    ]
    for item in bench.generator_check:
        generator = "+".join(f"{cpu:.0f}%" for cpu in item["generator_cpu_percent"])
        lines.append(
            f"| {item['mode']} | {item['generators']} | {item['requests_per_s']:,.0f} | "
            f"{item['events_per_s']:,.0f} | server {item['server_cpu_percent']:.0f}%, "
            f"generator {generator} |"
        )
    return "\n".join(lines) + "\n"


def machine() -> str:
    sqlite = sqlite3.sqlite_version
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    python = platform.python_version()
    arch = platform.machine()
    return f"{arch}, {cores} cores, {memory:.0f} GiB, Python {python}, SQLite {sqlite}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement per figure")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each figure")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=100, help="events per /v1/batch request")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--segments", type=int, default=100, help="event segments of the segments scenario (0: off)"
    )
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="also measure batches once the events table holds this many rows",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=1_000_000,
        help="customers of the customers scenario: segment backfill, lists (0: off)",
    )
    parser.add_argument(
        "--campaigns",
        type=int,
        default=100,
        help="active campaigns of the sessions scenario (0: off)",
    )
    parser.add_argument(
        "--scenarios",
        nargs="+",
        choices=[scenario.name for scenario in SCENARIOS],
        help="run only these (and what they need)",
    )
    parser.add_argument("--smoke", action="store_true", help="one second each: checks the harness")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.warmup, args.connections = 1.0, 0.5, 4
        args.prefill = min(args.prefill, 20_000)
        args.customers = min(args.customers, 20_000)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    bench = Bench(args)
    bench.results["meta"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": " ".join(sys.argv),
        "seconds": args.seconds,
        "warmup": args.warmup,
        "connections": args.connections,
        "batch": args.batch,
    }
    scenarios = selected(args.scenarios, args)
    for scenario in (s for s in scenarios if not s.per_database):
        scenario.run(bench, "")
    for kind in args.databases:
        for scenario in (s for s in scenarios if s.per_database):
            console.print(f"[dim]{scenario.name} on {NAMES[kind]} …[/dim]")
            scenario.run(bench, kind)
    report(bench, console)
    document = {
        "meta": bench.results.pop("meta"),
        "rows": [row.as_json() for row in bench.rows],
        "generator_check": bench.generator_check,
        "raw": bench.results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2))
    args.output.with_suffix(".md").write_text(markdown(bench))


if __name__ == "__main__":
    main()
