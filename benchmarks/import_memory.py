"""Server memory and time of CSV imports (``POST /v1/customers/importCSV``) by input size.

For each database and each size, a fresh ``patron serve`` on a fresh database
(the helpers of ``run.py``) is sent a generated CSV file of that many rows as
a multipart upload, ``--imports`` times in a row (the second import updates
the customers the first created). While each import runs — the upload until
its 202, then the job until it is DONE — a thread samples the server's
``VmRSS`` from ``/proc/PID/status`` every 20 ms; ``VmHWM`` (the kernel's own
peak) is read when the job is done. With ``--report``, the job's per-row
report (``GET /v1/async-actions/{id}``, the SDK's ``get_async_action``) is
then read once and the peak read again. Prints one table, and JSON with
``--output``.

    .venv/bin/python benchmarks/import_memory.py --rows 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from run import BIN, NAMES, database, free_port, proc_status, run_json, server

MB = 1024 * 1024
COLUMNS = ["Source_id", "Name", "Email", "Phone", "Birthdate", "Address_City", "plan"]
CITIES = ["London", "Paris", "Berlin", "Rome", "Madrid"]
PLANS = ["free", "pro", "team"]


def write_csv(path: Path, rows: int) -> int:
    """A CSV of ``rows`` customers (about 80 bytes a row, as a shop's export); its size."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for n in range(rows):
            writer.writerow(
                [
                    f"imp-{n:07d}",
                    f"Customer {n}",
                    f"customer{n}@example.com",
                    f"+4420{n:07d}",
                    f"19{10 + n % 90:02d}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    CITIES[n % len(CITIES)],
                    PLANS[n % len(PLANS)],
                ]
            )
    return path.stat().st_size


class RssSampler:
    """The highest VmRSS of a process seen while running (every ``interval`` seconds)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, proc_status(self.pid, "VmRSS"))
            self._stop.wait(self.interval)


@contextmanager
def patron_server(kind: str, max_mb: int) -> Iterator[tuple[str, int, dict[str, str]]]:
    """``patron serve`` on a fresh database: its URL, pid and the customers API's headers."""
    with database(kind) as url:
        env = {
            "PATRON_DATABASE_URL": url,
            "PATRON_LOG_LEVEL": "warning",
            "PATRON_CSV_IMPORT_MAX_MB": str(max_mb),
        }
        created = run_json([str(BIN / "patron"), "workspace", "create", "bench", "--json"], env)
        keys = created["credentials"]
        headers = {
            "X-App-Id": keys["voucherify_app_id"],
            "X-App-Token": keys["voucherify_app_token"],
        }
        port = free_port()
        with server([str(BIN / "patron"), "serve", f"--port={port}"], port, env) as process:
            yield f"http://127.0.0.1:{port}", process.pid, headers


def import_once(
    base: str, pid: int, headers: dict[str, str], path: Path, report: bool
) -> dict[str, Any]:
    """Upload ``path``, wait for its job (and with ``report``, read its per-row report
    once); the server's memory and the times it took."""
    before = proc_status(pid, "VmRSS")
    with RssSampler(pid) as sampler, httpx.Client(base_url=base, headers=headers) as client:
        started = time.perf_counter()
        with path.open("rb") as file:
            accepted = client.post(
                "/v1/customers/importCSV",
                files={"file": (path.name, file, "text/csv")},
                timeout=3600,
            )
        accepted.raise_for_status()
        uploaded = time.perf_counter()
        action = wait_until_done(client, accepted.json()["async_action_id"])
        done = time.perf_counter()
        figures: dict[str, Any] = {}
        if report:
            peak_before_report = proc_status(pid, "VmHWM")
            figures["report_bytes"] = read_report(client, action["id"])
            figures["report_seconds"] = round(time.perf_counter() - done, 2)
            figures["peak_rss_before_report_mb"] = peak_before_report
    return {
        **figures,
        "status": action["status"],
        "rss_before_mb": before,
        "rss_after_mb": proc_status(pid, "VmRSS"),
        "peak_rss_sampled_mb": sampler.peak,
        "peak_rss_mb": proc_status(pid, "VmHWM"),  # since the server started
        "upload_seconds": round(uploaded - started, 2),
        "job_seconds": round(done - uploaded, 2),
    }


def wait_until_done(client: httpx.Client, action_id: str) -> dict[str, Any]:
    """Poll the job list (not the job itself: its report grows with the rows) until done."""
    while True:
        # A generous timeout: a server busy with a large job may answer slowly.
        answer = client.get("/v1/async-actions", params={"limit": 5}, timeout=300)
        listed = answer.json()["async_actions"]
        action: dict[str, Any] = next(a for a in listed if a["id"] == action_id)
        if action["status"] in ("DONE", "FAILED"):
            return action
        time.sleep(0.25)


def read_report(client: httpx.Client, action_id: str) -> int:
    """GET the job with its per-row report (the SDK's get_async_action); its size."""
    size = 0
    with client.stream("GET", f"/v1/async-actions/{action_id}", timeout=3600) as answer:
        answer.raise_for_status()
        for piece in answer.iter_bytes():
            size += len(piece)
    return size


def measure(kind: str, rows: int, imports: int, folder: Path, report: bool) -> dict[str, Any]:
    path = folder / f"customers-{rows}.csv"
    size = write_csv(path, rows)
    max_mb = max(10, math.ceil(size / MB) + 1)
    with patron_server(kind, max_mb) as (base, pid, headers):
        time.sleep(1)  # let start-up settle before the baseline
        idle = proc_status(pid, "VmRSS")
        runs = [import_once(base, pid, headers, path, report) for _ in range(imports)]
    path.unlink()
    return {
        "database": kind,
        "rows": rows,
        "csv_mb": round(size / MB, 1),
        "idle_rss_mb": idle,
        "imports": runs,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    reports = any("report_bytes" in run for result in results for run in result["imports"])
    header = ["database", "rows", "CSV", "idle RSS", "import", "peak RSS", "RSS after"]
    header += ["upload (to 202)", "job", "rows/s"]
    header += ["peak RSS with the report", "report"] if reports else []
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for result in results:
        for number, run in enumerate(result["imports"], 1):
            seconds = run["upload_seconds"] + run["job_seconds"]
            cells = [
                NAMES[result["database"]],
                f"{result['rows']:,}",
                f"{result['csv_mb']} MB",
                f"{result['idle_rss_mb']:.0f} MB",
                str(number),
                f"{run.get('peak_rss_before_report_mb', run['peak_rss_mb']):.0f} MB",
                f"{run['rss_after_mb']:.0f} MB",
                f"{run['upload_seconds']} s",
                f"{run['job_seconds']} s",
                f"{result['rows'] / seconds:,.0f}",
            ]
            if reports:
                cells += [
                    f"{run['peak_rss_mb']:.0f} MB",
                    f"{run['report_bytes'] / MB:.0f} MB in {run['report_seconds']} s",
                ]
            print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite"], choices=list(NAMES))
    parser.add_argument("--imports", type=int, default=2, help="imports of the file per server")
    parser.add_argument(
        "--report", action="store_true", help="also read each job's per-row report, once"
    )
    parser.add_argument("--output", type=Path, help="also write the figures here, as JSON")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.databases:
            for rows in args.rows:
                results.append(measure(kind, rows, args.imports, Path(folder), args.report))
                print(json.dumps(results[-1]), flush=True)
    print_table(results)
    if args.output:
        args.output.write_text(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    main()
