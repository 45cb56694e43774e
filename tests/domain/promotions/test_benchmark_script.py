"""benchmarks/promotions_eval.py runs end to end (a smoke run; no timings asserted)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_the_promotions_benchmark_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = importlib.import_module("promotions_eval")
    result = bench.main(["--smoke", "--campaigns", "20", "--rules", "5"])
    assert result["campaigns"] == 20
    assert result["rules_per_campaign"] == 5
    assert result["us_per_session"] > 0
    assert result["us_per_session_no_campaigns"] > 0
    assert result["ratio"] == pytest.approx(
        result["us_per_session"] / result["us_per_session_no_campaigns"], rel=0.01
    )
    # the scenario exercises both paths: rules that fire and rules that fail
    assert result["effects"] > 0
    assert result["rule_failure_reasons"] > 0
    assert "µs per session" in capsys.readouterr().out
