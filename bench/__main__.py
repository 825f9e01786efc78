"""``python -m bench [--smoke] [--profile] [scenario ...]``: run, print the table, save JSON.

The runner prepares a migrated template database, then runs each scenario in a child process
of its own (``--worker``) on a copy of it. It exits non-zero only when a scenario crashed
or timed out; a missed target is reported in the table, not as a failure.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import timeit
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .env import BASE_DIR, BENCH_VAR, Databases, bench_environ, django_setup
from .measure import Metric, NotAvailable, Target, fmt, profiling_start

# Name -> database group (scenarios of one group share a database and its fixtures).
SCENARIOS = {
    "balance": "balance",
    "cdrs": "cdrs",
    "calls": "calls",
    "calls_deep": "deep",
    "csv": "calls",
    "dashboard": "dashboard",
    "topups": "topups",
    "api": "calls",
}
RESULTS = BASE_DIR / "bench" / "results.json"
SMOKE_RESULTS = BENCH_VAR / "results-smoke.json"
TIMEOUTS = {"smoke": 120, "full": 3600}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="scenario",
        help=f"any of {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (CI): seconds, not minutes"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the portal's part; writes var/bench/profile-<scenario>.txt",
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write the results "
        f"(default: {RESULTS.relative_to(BASE_DIR)}; smoke: var/bench/)",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the bench databases afterwards (PostgreSQL: portal_bench_*)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.size, args.result, args.profile)
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    return run(
        args.scenarios or list(SCENARIOS),
        size="smoke" if args.smoke else args.size,
        profile=args.profile,
        json_path=args.json or (SMOKE_RESULTS if args.smoke else RESULTS),
        keep_db=args.keep_db,
    )


# --- The runner --------------------------------------------------------------------------------


def run(names: list[str], *, size: str, profile: bool, json_path: Path, keep_db: bool) -> int:
    started = time.perf_counter()
    databases = Databases(os.environ.get("DATABASE_URL"))
    print(f"bench: {size} size, {databases.vendor}; preparing the database", flush=True)
    outcomes: dict[str, dict] = {}
    try:
        databases.prepare()
        for name in names:
            url = databases.for_group(SCENARIOS[name])
            outcomes[name] = _run_worker(name, size=size, url=url, profile=profile)
            _print_outcome(name, outcomes[name])
    finally:
        if not keep_db:
            databases.drop_all()
    total = time.perf_counter() - started
    _deep_compare(outcomes)
    print()
    print(table(outcomes))
    host = machine()
    _save(json_path, outcomes, size=size, vendor=databases.vendor, seconds=total, host=host)
    crashed = [n for n, o in outcomes.items() if o["status"] == "crashed"]
    print(
        f"\nbench: {len(outcomes)} scenarios in {total:.1f} s; results in {_rel(json_path)}"
        + (f"; CRASHED: {', '.join(crashed)}" if crashed else "")
    )
    print(f"bench: this machine's speed: {host['python_loop_ms']} ms for {SPEED_PROBE} (best of 5)")
    return 1 if crashed else 0


DEEP_METRIC = "page p95, no filter"


def _deep_compare(outcomes: dict[str, dict]) -> None:
    """calls_deep's ratio against the same page's ratio at 1,000,000 calls (scenario 3)."""
    ratios = {}
    for name in ("calls", "calls_deep"):
        outcome = outcomes.get(name) or {}
        if outcome.get("status") != "ok":
            return
        found = [m["ratio"] for m in outcome["metrics"] if m["name"] == DEEP_METRIC]
        if not found or found[0] is None:
            return
        ratios[name] = found[0]
    metric = Metric(
        "page p95 ratio, against 1,000,000",
        ratios["calls_deep"],
        reference=ratios["calls"],
        target=Target(min_ratio=0.8),
        note="within 20% of scenario 3's ratio",
    )
    outcomes["calls_deep"]["metrics"].append(metric.to_dict())


def _run_worker(name: str, *, size: str, url: str, profile: bool) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = Path(handle.name)
    command = [
        sys.executable,
        "-m",
        "bench",
        "--worker",
        name,
        "--size",
        size,
        "--result",
        str(result_path),
    ] + (["--profile"] if profile else [])
    print(f"\n== {name} ({size})", flush=True)
    started = time.perf_counter()
    # A session of its own, so a timeout ends the scenario with everything it started.
    process = subprocess.Popen(
        command, env=bench_environ(url), cwd=BASE_DIR, start_new_session=True
    )
    try:
        process.wait(timeout=TIMEOUTS.get(size, TIMEOUTS["full"]))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return {
            "status": "crashed",
            "note": "timed out",
            "seconds": time.perf_counter() - started,
            "metrics": [],
            "details": {},
        }
    finally:
        _kill_group(process.pid)
    try:
        outcome = json.loads(result_path.read_text()) if result_path.stat().st_size else None
    finally:
        result_path.unlink(missing_ok=True)
    if process.returncode != 0 or outcome is None:
        return {
            "status": "crashed",
            "note": f"exit code {process.returncode}",
            "seconds": time.perf_counter() - started,
            "metrics": [],
            "details": {},
        }
    return outcome


def _kill_group(pgid: int) -> None:
    """Whatever a finished scenario left running (it should have stopped it itself)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _print_outcome(name: str, outcome: dict) -> None:
    line = f"-- {name}: {outcome['status']} in {outcome['seconds']:.1f} s"
    if outcome.get("note"):
        line += f" ({outcome['note']})"
    print(line, flush=True)


COLUMNS = ("scenario", "metric", "value", "reference", "ratio", "target", "met?")


def table_rows(outcomes: dict[str, dict]) -> list[tuple[str, ...]]:
    rows = []
    for name, outcome in outcomes.items():
        if outcome["status"] != "ok":
            rows.append((name, outcome["status"], outcome.get("note", ""), "", "", "", ""))
            continue
        for m in outcome["metrics"]:
            met = {True: "met", False: "MISSED", None: ""}[m["met"]]
            rows.append(
                (
                    name,
                    m["name"],
                    fmt(m["value"], m["unit"]),
                    fmt(m["reference"], m["unit"]) if m["reference"] is not None else "",
                    f"{m['ratio']:.2f}" if m["ratio"] is not None else "",
                    m["target"],
                    met,
                )
            )
    return rows


def table(outcomes: dict[str, dict], markdown: bool = False) -> str:
    rows = [COLUMNS, *table_rows(outcomes)]
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join(" --- " for _ in COLUMNS) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# A fixed piece of pure Python, timed with every run: runs on machines (or days) of other
# speeds compare by it. Every reference of the run moves with it.
SPEED_PROBE = "sum(range(1_000_000))"


def machine() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_loop_ms": round(min(timeit.repeat(SPEED_PROBE, number=1, repeat=5)) * 1000, 1),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import django

    info["django"] = django.get_version()
    return info


def _db_version(outcomes: dict[str, dict]) -> str:
    """As the scenarios saw it (the runner never opens a database of the user's)."""
    for outcome in outcomes.values():
        if outcome.get("database"):
            return outcome["database"]
    return ""


def _worker_db_version() -> str:
    import sqlite3

    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW autovacuum")
        return f"PostgreSQL {version} (autovacuum {cursor.fetchone()[0]})"


def _save(
    path: Path, outcomes: dict[str, dict], *, size: str, vendor: str, seconds: float, host: dict
) -> None:
    data = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size,
        "database": _db_version(outcomes) or vendor,
        "machine": host,
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "seconds": round(seconds, 1),
        "scenarios": outcomes,
        "table": table(outcomes, markdown=True),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(BASE_DIR))
    except ValueError:
        return str(path)


# --- One scenario, in its own process ------------------------------------------------------------


def worker(name: str, size: str, result_path: Path, profile: bool) -> int:
    django_setup()
    module = importlib.import_module(f"bench.scenarios.{name}")
    profiler = profiling_start() if profile else None
    started = time.perf_counter()
    outcome: dict = {"status": "ok", "note": "", "metrics": [], "details": {}}
    try:
        report = module.run(**module.SIZES[size])
    except NotAvailable as exc:
        outcome.update(status="not available", note=str(exc))
    except Exception:
        traceback.print_exc()
        return 1
    else:
        outcome["metrics"] = [m.to_dict() for m in report.metrics]
        outcome["details"] = report.details
    outcome["seconds"] = time.perf_counter() - started
    outcome["database"] = _worker_db_version()
    outcome["size"] = {k: v for k, v in module.SIZES[size].items()}
    if profiler is not None:
        outcome["profile"] = _profile_write(name, profiler)
    result_path.write_text(json.dumps(outcome, default=str))
    return 0


def _profile_write(name: str, profiler) -> str:
    import io
    import pstats

    path = BENCH_VAR / f"profile-{name}.txt"
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write("== by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(40)
    out.write("\n== by own time\n")
    stats.sort_stats("tottime").print_stats(30)
    path.write_text(out.getvalue())
    print(f"profile of {name}: {_rel(path)}", flush=True)
    return _rel(path)


if __name__ == "__main__":
    sys.exit(main())
