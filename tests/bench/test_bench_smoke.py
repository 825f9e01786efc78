"""The benchmark harness keeps working: its table logic, and one scenario run end to end.

The full smoke run of every scenario is `make bench-smoke` (CI runs it after the tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.__main__ import table
from bench.measure import Metric, Target, percentile

ROOT = Path(__file__).resolve().parents[2]


def test_target_checks_value_and_ratio_together():
    target = Target(min=2000, min_ratio=0.7)

    assert Metric("rate", 2500, reference=3000, target=target).met is True
    assert Metric("rate", 2500, reference=4000, target=target).met is False
    assert Metric("rate", 1500, reference=1500, target=target).met is False


def test_ratio_above_one_always_means_the_portal_did_better():
    faster = Metric("p95", 10.0, "ms", reference=20.0, better="lower")
    more = Metric("rows/s", 300.0, reference=100.0)

    assert faster.ratio == 2.0
    assert more.ratio == 3.0


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))

    assert percentile(samples, 50) == 50
    assert percentile(samples, 95) == 95


def test_table_reports_missed_targets_and_unavailable_scenarios():
    outcomes = {
        "cdrs": {
            "status": "ok",
            "metrics": [Metric("rows/s", 10_000, "/s", target=Target(min=20_000)).to_dict()],
        },
        "dashboard": {"status": "not available", "note": "no view", "metrics": []},
    }

    text = table(outcomes)

    assert "MISSED" in text
    assert "not available" in text


def test_balance_smoke_run_writes_results(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_TESTING")}
    env["BENCH_VAR_DIR"] = str(tmp_path / "var")
    out = tmp_path / "results.json"

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "balance", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    assert results["scenarios"]["balance"]["status"] == "ok"
    names = [m["name"] for m in results["scenarios"]["balance"]["metrics"]]
    assert "accounts/s" in names


def test_api_smoke_run_reads_every_call_through_the_api(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_TESTING")}
    env["BENCH_VAR_DIR"] = str(tmp_path / "var")
    out = tmp_path / "results.json"

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "api", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    scenario = json.loads(out.read_text())["scenarios"]["api"]
    assert scenario["status"] == "ok"
    assert {m["name"] for m in scenario["metrics"]} == {"calls rows/s", "customer p95"}
    assert scenario["details"]["calls_read"] == 2_000
