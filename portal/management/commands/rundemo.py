"""`make run`: the whole portal on one machine with demo data and no services installed.

Starts the VOS3000 emulator, seeds the demo (VOS server row, first sync, demo logins), then a
Celery worker with beat on the embedded broker and the web server; stops them all on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run emulator, worker + beat and web server with demo data (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--emulator-port", type=int, default=8090)
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, port: int, emulator_port: int, no_worker: bool, **options):
        if not settings.DEBUG:
            raise CommandError("rundemo is for development: run it with DEBUG=true (make run).")
        base = Path(settings.BASE_DIR)
        vos_url = f"http://127.0.0.1:{emulator_port}/external/server"
        env = {
            **os.environ,
            "DEBUG": "true",
            "VOS_URL": vos_url,
            "VOS_SERVER_NAME": os.environ.get("VOS_SERVER_NAME", "demo"),
            # The demo's staff and reseller logins work with their password alone; a real
            # installation keeps the default (a second factor for staff and resellers).
            "MFA_REQUIRED_ROLES": os.environ.get("MFA_REQUIRED_ROLES", ""),
        }
        os.environ.update({k: env[k] for k in ("VOS_URL", "VOS_SERVER_NAME")})
        children: list[subprocess.Popen] = []
        # Each process logs to its own file under var/logs/: the console keeps the addresses,
        # the logins and the seed's summary readable (e-mails land in the web/worker logs).
        logs = settings.VAR_DIR / "logs"
        logs.mkdir(parents=True, exist_ok=True)

        def start(name: str, *cmd: str) -> subprocess.Popen:
            log = (logs / f"{name}.log").open("ab")
            proc = subprocess.Popen(list(cmd), cwd=base, env=env, stdout=log, stderr=log)
            children.append(proc)
            return proc

        def stop_all(*_):
            _stop(children)

        signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
        try:
            self._start_all(
                start, env=env, port=port, emulator_port=emulator_port, worker=not no_worker
            )
            self._banner(port=port, vos_url=vos_url)
            while all(proc.poll() is None for proc in children):
                time.sleep(1)
            failed = [proc.args for proc in children if proc.poll() not in (None, 0)]
            if failed:
                raise CommandError(f"a process stopped: {failed[0]}")
        except KeyboardInterrupt:
            pass
        finally:
            stop_all()

    def _start_all(self, start, *, env: dict, port: int, emulator_port: int, worker: bool) -> None:
        """The emulator, migrations and demo data, the worker with beat, the web server."""
        base, python = Path(settings.BASE_DIR), sys.executable
        start(
            "emulator", python, "manage.py", "vos_emulator", "--host", "127.0.0.1",
            "--port", str(emulator_port), "--seed", "demo",
            "--state", str(settings.VAR_DIR / "vos-emulator.json"), "--traffic", "30",
        )  # fmt: skip
        self._wait_for(f"http://127.0.0.1:{emulator_port}/_emulator/health", "emulator")
        # Migrations and the seed print their summary only (no line per VOS call).
        quiet = {**env, "LOG_LEVEL": "WARNING"}
        subprocess.run(
            [python, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=base,
            env=quiet,
            check=True,
        )
        subprocess.run([python, "manage.py", "seed_demo"], cwd=base, env=quiet, check=True)
        if worker:
            start(
                "worker", python, "-m", "celery", "-A", "portal", "worker", "-B",
                "--concurrency", "2", "--loglevel", "INFO",
                "-s", str(settings.VAR_DIR / "celerybeat-schedule"),
            )  # fmt: skip
        start("web", python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload")
        self._wait_for(f"http://127.0.0.1:{port}/healthz", "web server")

    def _banner(self, *, port: int, vos_url: str) -> None:
        logins = settings.VAR_DIR / "demo-logins.txt"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Portal:   http://127.0.0.1:{port}/"))
        self.stdout.write(f"Emulator: {vos_url}")
        if logins.exists():
            self.stdout.write(logins.read_text())
        self.stdout.write(f"Logs:     {settings.VAR_DIR / 'logs'}/ (web, worker, emulator)")
        self.stdout.write("Two-factor sign-in is optional in the demo (MFA_REQUIRED_ROLES).")
        self.stdout.write("Ctrl-C stops everything.")

    @staticmethod
    def _wait_for(url: str, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise CommandError(f"the {what} did not start within {timeout:.0f}s ({url})")


def _stop(children: list[subprocess.Popen]) -> None:
    for proc in reversed(children):
        if proc.poll() is None:
            proc.terminate()
    for proc in children:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
