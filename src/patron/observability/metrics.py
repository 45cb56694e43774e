"""Patron's Prometheus metrics, and the text ``GET /metrics`` answers.

Each process keeps one :class:`Metrics` (:func:`metrics`). Its methods are
what the layers below report to — the group committer (a
``CommitObserver``), tracking, bulk jobs and the segment sweep (the
domain's observer ports) — so none of them imports prometheus-client.

Several processes behind one port (``patron serve --workers N``): a scrape
reaches one of them at random, so per-process figures would jump from scrape
to scrape. :func:`share_between_workers` gives the workers one directory
(``PROMETHEUS_MULTIPROC_DIR``) before they start; prometheus-client then
keeps every value in a memory-mapped file there, and any worker's
``/metrics`` answers the sum over all of them (the queue gauge: over the
live ones).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Prometheus' classic text format: every Prometheus server reads it (Patron's
# names need none of the newer version's escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# From a cached key check (~1 ms) to a stalled database (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Messages per group commit: 1 on an idle server, up to PATRON_COMMIT_BATCH_LIMIT.
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)

# A live gauge's file of one process: gauge_livesum_<pid>.db.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


class Metrics:
    """Every metric Patron exports, and the observer methods that move them."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIRECTORY))
        self.requests = Counter(
            "patron_http_requests",
            "HTTP requests answered, by surface, route template and status.",
            ["surface", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "patron_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["surface", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.refused = Counter(
            "patron_http_refused",
            "Requests answered with an error, by surface and reason.",
            ["surface", "reason"],
            registry=registry,
        )
        self._commits(registry)
        self._background(registry)
        # Label children by their labels: ``labels()`` costs more than the increment.
        self._answered: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _commits(self, registry: CollectorRegistry) -> None:
        self.queue = Gauge(
            "patron_ingest_queue_messages",
            "Messages waiting for the database when the last group commit ended.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.batch_messages = Histogram(
            "patron_commit_batch_messages",
            "Messages written per group-committed transaction.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "patron_commit_batch_seconds",
            "Time per group commit, retries included.",
            buckets=COMMIT_BUCKETS,
            registry=registry,
        )
        self.events = Counter("patron_events_stored", "Tracked events stored.", registry=registry)
        self.duplicates = Counter(
            "patron_events_duplicate",
            "Tracked events skipped: their messageId was stored already.",
            registry=registry,
        )

    def _background(self, registry: CollectorRegistry) -> None:
        self.jobs = Counter(
            "patron_bulk_jobs",
            "Bulk jobs (async actions) by type and what became of them: accepted, done, failed.",
            ["type", "status"],
            registry=registry,
        )
        self.job_rows = Counter(
            "patron_bulk_job_rows",
            "Rows of bulk jobs: accepted, then succeeded or failed as their chunk commits.",
            ["type", "outcome"],
            registry=registry,
        )
        self.sweeps = Counter(
            "patron_segment_sweeps",
            "Sweeps of time-windowed customer segments, by outcome (ok, failed).",
            ["outcome"],
            registry=registry,
        )
        self.sweep_seconds = Histogram(
            "patron_segment_sweep_seconds",
            "Time per segment sweep.",
            buckets=SWEEP_BUCKETS,
            registry=registry,
        )
        self.swept_customers = Counter(
            "patron_segment_sweep_customers",
            "Customers the segment sweeps re-evaluated.",
            registry=registry,
        )

    # -- HTTP (patron.observability.requests) ----------------------------------------

    def request_answered(
        self, surface: str, route: str, status: int, seconds: float, refusal: str | None
    ) -> None:
        key = (surface, route, status)
        children = self._answered.get(key)
        if children is None:
            children = (
                self.requests.labels(surface, route, str(status)),
                self.latency.labels(surface, route),
            )
            self._answered[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if refusal is not None:
            self.refused.labels(surface, refusal).inc()

    # -- the group committer (patron.store.committer.CommitObserver) ----------------

    def batch_committed(self, messages: int, seconds: float, waiting: int) -> None:
        self.batch_messages.observe(messages)
        self.batch_seconds.observe(seconds)
        self.queue.set(waiting)

    # -- tracking (patron.domain.tracking.ports.TrackingObserver) --------------------

    def events_stored(self, stored: int, duplicates: int) -> None:
        self.events.inc(stored)
        if duplicates:
            self.duplicates.inc(duplicates)

    # -- bulk jobs (patron.domain.jobs.ports.JobObserver) ------------------------------

    def job_accepted(self, type_: str, rows: int) -> None:
        self.jobs.labels(type_, "accepted").inc()
        self.job_rows.labels(type_, "accepted").inc(rows)

    def chunk_applied(self, type_: str, rows: int, failed: int) -> None:
        self.job_rows.labels(type_, "succeeded").inc(rows - failed)
        self.job_rows.labels(type_, "failed").inc(failed)

    def job_finished(self, type_: str, status: str) -> None:
        self.jobs.labels(type_, status.lower()).inc()

    # -- the segment sweep (patron.domain.segments.customers.ports.SweepObserver) ------

    def sweep_finished(self, *, ok: bool, customers: int, seconds: float) -> None:
        self.sweeps.labels("ok" if ok else "failed").inc()
        self.sweep_seconds.observe(seconds)
        self.swept_customers.inc(customers)

    # -- /metrics ----------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The text ``GET /metrics`` answers (:data:`CONTENT_TYPE`)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        directory = os.environ[MULTIPROCESS_DIRECTORY]
        _forget_dead_processes(Path(directory))
        workers = CollectorRegistry()
        MultiProcessCollector(workers, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(workers)


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    """This process's metrics (on prometheus-client's registry, with its process metrics)."""
    # Each counter's creation time as a series of its own would double the
    # series Prometheus stores, for what a restart's reset already tells.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    return Metrics()


def share_between_workers(workers: int) -> None:
    """Before ``patron serve`` starts worker processes: make their metrics one set.

    With more than one worker, the workers (started afresh, they inherit this
    environment) find ``PROMETHEUS_MULTIPROC_DIR`` set: to the operator's own
    directory, emptied of a previous run's files, or to a temporary one that
    is removed when the server stops.
    """
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    elif workers > 1:
        directory = tempfile.mkdtemp(prefix="patron-metrics-")
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        os.environ[MULTIPROCESS_DIRECTORY] = directory


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of workers that died (a killed worker cannot say so)."""
    for file in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(file.name)
        if match is not None and not _alive(int(match.group(1))):
            mark_process_dead(int(match.group(1)), str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
