"""The benchmark harness works end to end (a seconds-long smoke run; no timings asserted)."""

from __future__ import annotations

import importlib
import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from patron.domain.criteria import compile_predicate, event_field, parse

ROOT = Path(__file__).resolve().parent.parent


def bench_module(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    """A module of benchmarks/, imported as its scripts import each other."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module(name)


@pytest.mark.server
def test_smoke_run_produces_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--smoke",
            "--prefill",
            "20000",
            "--databases",
            "sqlite",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    document = json.loads(output.read_text())
    rows = {row["scenario"]: row for row in document["rows"]}
    assert set(rows) == {
        "/v1/track, 1 event per request, durable ack",
        "/v1/batch, 100 events per request, durable ack",
        "server memory under sustained load (peak RSS)",
        "/v1/batch with 100 event segments",
        "/v1/batch after 20,000 rows",
        "behavioural segment backfill, 10,000 customers, 20,000 events",
        "segment backfill over 20,000 customers",
        "re-evaluate one profile, 100 customer segments",
        "list_customers?email= at 20,000 customers",
        "evaluate a session, 100 campaigns x 5 rules",
        "PUT /v2/customer_sessions, 100 campaigns x 5 rules",
    }
    for row in document["rows"]:
        assert row["database"] == ("—" if row["scenario"].startswith("evaluate") else "SQLite")
        assert row["patron"] > 0
        if row["unit"] in ("events/s", "req/s", "customers/s"):
            # every rate stands beside its reference, with the ratio
            assert row["reference"] > 0
            assert row["ratio"] == pytest.approx(row["patron"] / row["reference"], abs=1e-3)
    # The generator check: the no-op endpoint with one and with two generator processes.
    assert [(c["mode"], c["generators"]) for c in document["generator_check"]] == [
        ("track", 1),
        ("track", 2),
        ("batch", 1),
        ("batch", 2),
    ]
    for check in document["generator_check"]:
        assert check["requests_per_s"] > 0
        assert len(check["generator_cpu_percent"]) == check["generators"]
    raw = document["raw"]
    assert_no_errors(raw)
    ingest = raw["sqlite"]["ingest"]
    assert ingest["batch"]["events_per_s"] > ingest["batch"]["requests_per_s"]
    assert ingest["raw_inserts"]["rows"] > 0
    assert raw["sqlite"]["segments"]["segments"] == 100
    prefill = raw["sqlite"]["prefill"]
    assert prefill["fill"]["rows"] == 20_000
    behaviour = prefill["behaviour"]
    assert behaviour["backfill_passive"]["members"] == behaviour["scan"]["matches"]
    assert len(behaviour["scan"]["rounds"]) == 3
    customers = raw["sqlite"]["customers"]
    assert customers["fill"]["customers"] == 20_000
    # The backfill found exactly the customers the plain scan counts (and some).
    assert customers["backfill_passive"]["members"] == customers["scan"]["matches"] > 0
    sessions = raw["sqlite"]["sessions"]
    assert sessions["campaigns"]["requests"] > 0
    assert sessions["no_campaigns"]["requests"] > 0
    assert raw["engine"]["promotions"]["campaigns"] == 100
    assert output.with_suffix(".md").read_text().startswith("| scenario |")


def assert_no_errors(figures: Any) -> None:
    if isinstance(figures, dict):
        assert not figures.get("errors"), figures
        for value in figures.values():
            assert_no_errors(value)


def test_event_segments_are_valid_and_test_every_event_against_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    segments = bench_module(monkeypatch, "event_segments").definitions(100)
    loadgen = bench_module(monkeypatch, "loadgen")
    assert len(segments) == 100
    assert len({name for name, _, _ in segments}) == 100
    operators = {c.get("op") for _, _, criteria in segments for c in criteria}
    assert {"equals", "contains", "regex", "in"} <= operators
    predicates = [compile_predicate(parse(c, fields=event_field)) for _, _, c in segments]
    now = datetime.now(UTC)
    events = loadgen.sample_messages(2 * loadgen.VARIANTS)
    matched = [[i for i, p in enumerate(predicates) if p(event, now)] for event in events]
    # Only the last segment ever matches, and only a few events: the rest are
    # tested against all 100 and get the default segment.
    assert {tuple(found) for found in matched} == {(), (99,)}
    assert 0 < sum(bool(found) for found in matched) < len(events) / 10


def test_prefill_rows_are_valid_and_varied(monkeypatch: pytest.MonkeyPatch) -> None:
    prefill = bench_module(monkeypatch, "prefill")
    people = prefill.customers(10_000, random.Random(1))
    assert people[123]["external_id"] == "user-123"
    assert len({p["id"] for p in people}) == len(people)
    rows = list(prefill.events(5_000, people, "ws_x", "+00"))
    assert len({row[2] for row in rows}) == len(rows)  # message ids
    assert {row[3] for row in rows} == {"track", "page", "identify"}
    assert len({row[4] for row in rows}) > 10  # event and page names
    assert len({row[1] for row in rows}) > 1_000  # customers
    assert [row[7] for row in rows] == sorted(row[7] for row in rows)  # oldest first
    for row in rows:
        json.loads(row[11])
        line = prefill._copy_text(row)
        assert line.count("\t") == len(row) - 1
        assert "\\" not in line.replace("\\N", "")
        assert line.endswith("\n")
        assert line.count("\n") == 1
    halves = [list(prefill.events(5_000, people, "ws_x", "", part=p, parts=2)) for p in (0, 1)]
    assert len(halves[0]) + len(halves[1]) == 5_000


@pytest.mark.server
def test_import_memory_benchmark_runs(tmp_path: Path) -> None:
    output = tmp_path / "imports.json"
    command = [sys.executable, "benchmarks/import_memory.py", "--rows", "200", "--report"]
    subprocess.run(
        [*command, "--output", str(output)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (result,) = json.loads(output.read_text())["results"]
    assert (result["database"], result["rows"], len(result["imports"])) == ("sqlite", 200, 2)
    for run in result["imports"]:
        assert run["status"] == "DONE"
        assert run["peak_rss_mb"] >= run["peak_rss_sampled_mb"] > 0
        assert run["report_bytes"] > 200 * 100  # a row of the report per row of the file
