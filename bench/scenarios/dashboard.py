"""5. Dashboard under load: gunicorn with one worker per core, concurrent logged-in clients.

Subject: the customer's dashboard (``customer:dashboard``) of an account with a month of
calls, served by gunicorn (``portal.wsgi``, sync workers) to a closed-loop load generator
(bench.load). Reference: the bench's static page (bench.views.bare) through the same
server, clients and session. The load alternates between the two in rounds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.emulator import EmulatorProcess
from bench.env import BASE_DIR
from bench.fixtures import customer_with_calls, session_cookie
from bench.load import LoadResult, load_any
from bench.measure import NotAvailable, Report, Target, interleaved_ms, percentile

SIZES = {
    "smoke": {
        "clients": 2,
        "seconds": 2,
        "rounds": 1,
        "calls": 2_000,
        "total": 5_000,
        "single_repeat": 10,
    },
    "full": {
        "clients": 20,
        # Six short rounds each rather than two long ones: the same minute a page, with the
        # machine's drift spread over both pages (docs/PERFORMANCE.md, fourth round).
        "seconds": 10,
        "rounds": 6,
        "calls": 6_000,
        "total": 100_000,
        "single_repeat": 200,
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(port: int, workers: int) -> subprocess.Popen:
    binary = Path(sys.executable).with_name("gunicorn")
    command = [
        str(binary),
        "portal.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "30",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=BASE_DIR, env=dict(os.environ))


def _wait_up(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(
    *, clients: int, seconds: float, rounds: int, calls: int, total: int, single_repeat: int
) -> Report:
    from django.test import Client
    from django.urls import reverse

    from bench.scenarios.calls import get_ok, view_is_real

    workers = os.cpu_count() or 1
    with EmulatorProcess(kind="scale", accounts=100) as emu:
        user, account, _ = customer_with_calls(
            url=emu.url, total=total, target_rows=calls, others=99, days=31
        )
        dashboard = reverse("customer:dashboard")
        if not view_is_real(dashboard):
            raise NotAvailable("the dashboard view is still the placeholder page")
        # One request at a time in this process first: where a request's time goes
        # (python -m bench --profile profiles this part).
        probe = Client()
        probe.force_login(user)
        single = interleaved_ms(
            {
                "page": lambda: get_ok(probe, dashboard),
                "ref": lambda: get_ok(probe, reverse("bench_bare")),
            },
            repeat=single_repeat,
        )
        name, value = session_cookie(user)
        headers = {"Cookie": f"{name}={value}", "Host": "127.0.0.1"}
        port = _free_port()
        server = _gunicorn(port, workers)
        try:
            _wait_up(server, port)
            subject, reference = LoadResult(0), LoadResult(0)
            generator = "none"
            for path in (dashboard, reverse("bench_bare")):  # warm every worker
                load_any(
                    host="127.0.0.1",
                    port=port,
                    path=path,
                    headers=headers,
                    clients=workers * 2,
                    seconds=1,
                )
            for _ in range(rounds):
                for path, total_result in (
                    (reverse("bench_bare"), reference),
                    (dashboard, subject),
                ):
                    result, generator = load_any(
                        host="127.0.0.1",
                        port=port,
                        path=path,
                        headers=headers,
                        clients=clients,
                        seconds=seconds,
                    )
                    total_result.seconds += result.seconds
                    total_result.merge(result)
            vos_calls = emu.calls().get("GetCustomer", 0)
        finally:
            _stop(server)

    report = Report()
    report.add(
        "requests/s",
        subject.rps,
        "/s",
        reference=reference.rps,
        target=Target(min_ratio=0.80),
        note=f"load generator: {generator}",
    )
    report.add("p50", subject.p(50), "ms", reference=reference.p(50), better="lower")
    report.add(
        "p95", subject.p(95), "ms", reference=reference.p(95), better="lower", target=Target(max=50)
    )
    report.add(
        "one client, in-process p50",
        percentile(single["page"], 50),
        "ms",
        reference=percentile(single["ref"], 50),
        better="lower",
        note="test client, no server: the view's own time",
    )
    report.add(
        "errors",
        subject.errors,
        reference=reference.errors,
        target=Target(max=1),
        note=", ".join(f"{k}: {v}" for k, v in sorted(subject.statuses.items())),
    )
    report.details.update(
        workers=workers,
        clients=clients,
        seconds_per_round=seconds,
        rounds=rounds,
        subject={
            "ok": subject.ok,
            "errors": subject.errors,
            "statuses": subject.statuses,
            "p99": subject.p(99),
        },
        reference={
            "ok": reference.ok,
            "errors": reference.errors,
            "statuses": reference.statuses,
            "p99": reference.p(99),
        },
        vos_get_customer_calls=vos_calls,
        load_generator=generator,
    )
    return report
