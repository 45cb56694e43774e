"""The benchmark harness works end to end (a one-second smoke run; no timings asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
        timeout=240,
    )
    results = json.loads(output.read_text())
    for target in ("noop", "sqlite"):
        for mode in ("track", "batch"):
            figures = results[target][mode]
            assert figures["requests"] > 0
            assert figures["errors"] == {}
    assert results["sqlite"]["batch"]["events_per_s"] > results["sqlite"]["batch"]["requests_per_s"]
    assert results["sqlite"]["batch"]["server_rss_mb"] > 0
    assert results["sqlite"]["raw_inserts"]["rows"] > 0
    assert results["sqlite"]["batch_after_prefill"]["requests"] > 0
