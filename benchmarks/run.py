"""Run Patron's tracking benchmarks and print each figure beside its reference.

Every scenario runs the load generator (``loadgen.py``) in its own process
against a real server process: Patron, and a no-op ASGI endpoint on the same
uvicorn stack measured in the same run. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WRITE_KEY = "bench-write-key-0123456789"
POSTGRES_ADMIN = os.environ.get(
    "PATRON_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


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
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=HERE.parent)
    try:
        wait_until_up(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def database(kind: str) -> Iterator[str]:
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


def run_json(command: list[str]) -> dict[str, Any]:
    """Run a helper process that prints one JSON object; return it."""
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def load(port: int, mode: str, args: argparse.Namespace, seconds: float) -> dict[str, Any]:
    return run_json(
        [
            sys.executable,
            str(HERE / "loadgen.py"),
            f"--port={port}",
            f"--write-key={WRITE_KEY}",
            f"--mode={mode}",
            f"--batch={args.batch}",
            f"--connections={args.connections}",
            f"--seconds={seconds}",
        ]
    )


def rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Resident memory of a server process (Linux), in MB."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(
    port: int, mode: str, args: argparse.Namespace, process: subprocess.Popen[bytes]
) -> dict[str, Any]:
    load(port, mode, args, min(1.0, args.seconds))  # warm up caches and pools
    result = load(port, mode, args, args.seconds)
    result["server_rss_mb"] = rss_mb(process)  # right after the load, before any idle time
    return result


def run_raw_inserts(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    with database(kind) as url:
        return run_json(
            [
                sys.executable,
                str(HERE / "raw_inserts.py"),
                f"--url={url}",
                f"--batch={args.batch}",
                f"--seconds={args.seconds}",
            ]
        )


def run_noop(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    port = free_port()
    command = [
        str(BIN / "uvicorn"),
        "benchmarks.noop_app:app",
        f"--port={port}",
        "--no-access-log",
        "--log-level=warning",
    ]
    with server(command, port, {}) as process:
        return {mode: measure(port, mode, args, process) for mode in ("track", "batch")}


def run_patron(
    kind: str,
    args: argparse.Namespace,
    prefill: int = 0,
    modes: tuple[str, ...] = ("track", "batch"),
) -> dict[str, dict[str, Any]]:
    """Patron on a fresh database; with ``prefill``, the events table first holds that many rows."""
    with database(kind) as url:
        env = {"PATRON_DATABASE_URL": url, "PATRON_LOG_LEVEL": "warning"}
        created = subprocess.run(
            [
                str(BIN / "patron"),
                "workspace",
                "create",
                "bench",
                f"--write-key={WRITE_KEY}",
                "--json",
            ],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            text=True,
        )
        if prefill:
            workspace_id = json.loads(created.stdout)["id"]
            fill = [f"--url={url}", "--batch=10000", f"--rows={prefill}", "--seconds=1e9"]
            run_json(
                [
                    sys.executable,
                    str(HERE / "raw_inserts.py"),
                    *fill,
                    f"--workspace-id={workspace_id}",
                ]
            )
        port = free_port()
        with server([str(BIN / "patron"), "serve", f"--port={port}"], port, env) as process:
            return {mode: measure(port, mode, args, process) for mode in modes}


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    noop = results["noop"]
    table = Table(
        title=f"Patron tracking, {args.seconds:g} s per scenario, {args.connections} connections"
    )
    for column in ("scenario", "database", "Patron", "p50 / p99 ms", "RSS MB", "reference"):
        table.add_column(column)
    for kind in args.databases:
        track, batch = results[kind]["track"], results[kind]["batch"]
        raw = results[kind]["raw_inserts"]["rows_per_s"]
        reference = noop["track"]["requests_per_s"]
        table.add_row(
            "/v1/track, 1 event per request",
            kind,
            f"{track['requests_per_s']:,.0f} req/s",
            f"{track['p50_ms']} / {track['p99_ms']}",
            f"{track['server_rss_mb']}",
            f"{track['requests_per_s'] / reference:.0%} of no-op ({reference:,.0f} req/s)",
        )
        lower = min(noop["batch"]["events_per_s"], raw)
        table.add_row(
            f"/v1/batch, {args.batch} events per request",
            kind,
            f"{batch['events_per_s']:,.0f} events/s",
            f"{batch['p50_ms']} / {batch['p99_ms']}",
            f"{batch['server_rss_mb']}",
            f"{batch['events_per_s'] / lower:.0%} of the lower of no-op "
            f"({noop['batch']['events_per_s']:,.0f}) and raw inserts ({raw:,.0f} rows/s)",
        )
        if "batch_after_prefill" in results[kind]:
            full = results[kind]["batch_after_prefill"]
            table.add_row(
                f"/v1/batch after {args.prefill:,} rows",
                kind,
                f"{full['events_per_s']:,.0f} events/s",
                f"{full['p50_ms']} / {full['p99_ms']}",
                f"{full['server_rss_mb']}",
                f"{full['events_per_s'] / batch['events_per_s']:.0%} of the empty table",
            )
    Console().print(table)
    errors = {
        f"{target} {mode}": figures["errors"]
        for target, modes in results.items()
        if target != "meta"
        for mode, figures in modes.items()
        if isinstance(figures, dict) and figures.get("errors")
    }
    if errors:
        Console().print(f"[yellow]non-200 answers:[/yellow] {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="also measure batches once the events table holds this many rows",
    )
    parser.add_argument("--smoke", action="store_true", help="one second each: checks the harness")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.connections = 1.0, 4
        args.prefill = min(args.prefill, 20_000)
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
            "seconds": args.seconds,
            "connections": args.connections,
        },
        "noop": run_noop(args),
    }
    for kind in args.databases:
        results[kind] = run_patron(kind, args)
        results[kind]["raw_inserts"] = run_raw_inserts(kind, args)
        if args.prefill:
            full = run_patron(kind, args, prefill=args.prefill, modes=("batch",))
            results[kind]["batch_after_prefill"] = full["batch"]
    report(results, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
