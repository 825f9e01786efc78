"""A closed-loop HTTP load generator: N clients, each sending its next request when the last
answer arrived, for a fixed time. Clients are threads spread over a few processes, so one
GIL never caps the rate. Latency is measured per request, from send to the last byte.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .measure import percentile


@dataclass
class LoadResult:
    seconds: float
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def p(self, pct: float) -> float:
        return percentile(self.latencies_ms, pct)

    def merge(self, other: LoadResult) -> None:
        self.ok += other.ok
        self.errors += other.errors
        self.latencies_ms += other.latencies_ms
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count


def _client(
    host: str,
    port: int,
    path: str,
    headers: dict,
    deadline: float,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    latencies: list[float] = []
    ok = errors = 0
    statuses: dict[str, int] = {}
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            status = str(response.status)
            if response.will_close:
                conn.close()  # the next request opens a new connection (sync workers)
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
        statuses[status] = statuses.get(status, 0) + 1
        if status == "200":
            ok += 1
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    conn.close()
    with lock:
        result.merge(LoadResult(0, ok, errors, latencies, statuses))


def _process(host, port, path, headers, clients, start_at, seconds, queue) -> None:
    result = LoadResult(seconds)
    lock = threading.Lock()
    # All processes start together and stop together.
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(host, port, path, headers, deadline, result, lock))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(result)


def load(
    *,
    host: str,
    port: int,
    path: str,
    headers: dict,
    clients: int,
    seconds: float,
    processes: int | None = None,
) -> LoadResult:
    processes = max(1, min(clients, processes or os.cpu_count() or 1))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 1.5  # time for the spawned processes to import
    shares = [
        clients // processes + (1 if i < clients % processes else 0) for i in range(processes)
    ]
    workers = [
        ctx.Process(
            target=_process,
            args=(host, port, path, headers, share, start_at, seconds, queue),
            daemon=True,
        )
        for share in shares
        if share
    ]
    for worker in workers:
        worker.start()
    total = LoadResult(seconds)
    for _ in workers:
        total.merge(queue.get(timeout=seconds + 60))
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
    return total


WRK = shutil.which("wrk")
WRK_SCRIPT = Path(__file__).with_name("wrk_session.lua")


def wrk_load(
    *, host: str, port: int, path: str, headers: dict, clients: int, seconds: float
) -> LoadResult:
    """The same closed loop with wrk (C, its own process and threads): the load generator
    then shares no interpreter, and no profile, with the server. Needs ``wrk`` on PATH."""
    threads = max(1, min(clients, os.cpu_count() or 1))
    env = {**os.environ, "BENCH_COOKIE": headers.get("Cookie", "")}
    done = subprocess.run(
        [
            WRK or "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            f"http://{host}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 60,
        check=True,
    )
    result = LoadResult(max(1, round(seconds)))
    for line in done.stdout.splitlines():
        kind, *numbers = line.split()
        if kind == "LATENCY":
            micros, count = (int(n) for n in numbers)
            result.latencies_ms += [micros / 1000] * count
        elif kind == "TOTALS":
            result.ok, result.errors = (int(n) for n in numbers)
    if result.errors:
        result.statuses["error"] = result.errors
    return result


def load_any(**kwargs) -> tuple[LoadResult, str]:
    """wrk when it is installed, else the Python generator above; returns which was used."""
    if WRK:
        return wrk_load(**kwargs), "wrk"
    return load(**kwargs), "python"
