"""The benchmark's process environment and its throwaway databases.

Every bench process (the runner, each scenario, gunicorn) runs with the production settings
(DEBUG off, manifest static files) plus what loopback HTTP needs, on a database of its own:
a file under var/bench/ on SQLite, or ``portal_bench_*`` databases next to the one
``DATABASE_URL`` names on PostgreSQL. The user's own database is never opened.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_VAR = Path(os.environ.get("BENCH_VAR_DIR") or BASE_DIR / "var" / "bench")
PG_PREFIX = os.environ.get("BENCH_DB_PREFIX", "portal_bench")


def bench_environ(database_url: str) -> dict[str, str]:
    """The environment of a bench process using ``database_url``."""
    env = dict(os.environ)
    # Never the user's Redis either: job locks and cache stay in var/bench, cleared per run.
    for name in ("PORTAL_TESTING", "REDIS_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            # One key per run, shared by the runner, the scenarios and gunicorn.
            "SECRET_KEY": os.environ.setdefault("BENCH_SECRET_KEY", secrets.token_urlsafe(50)),
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "PORTAL_VAR_DIR": str(BENCH_VAR),
            # Never the user's .env: it may name their own database or servers.
            "PORTAL_ENV_FILE": str(BENCH_VAR / "no.env"),
            "EMAIL_URL": "dummymail://",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env["BENCH_SECRET_KEY"] = env["SECRET_KEY"]
    return env


def django_setup() -> None:
    """Set Django up in this process (its environment comes from the runner)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        check=True,
    )


class Databases:
    """One migrated template database per run, and a copy of it per scenario group."""

    def __init__(self, user_url: str | None):
        self.postgres = bool(user_url) and urlsplit(user_url).scheme.startswith("postgres")
        self.user_url = user_url or ""
        self.created: list[str] = []

    @property
    def vendor(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    # -- names --

    def _pg_url(self, name: str) -> str:
        parts = urlsplit(self.user_url)
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))

    def _sqlite_path(self, name: str) -> Path:
        return BENCH_VAR / f"{name}.sqlite3"

    def url(self, name: str) -> str:
        if self.postgres:
            return self._pg_url(f"{PG_PREFIX}_{name}")
        return f"sqlite:///{self._sqlite_path(name)}"

    # -- life cycle --

    def prepare(self) -> str:
        """Create and migrate the template; collect static files. Returns the template URL."""
        BENCH_VAR.mkdir(parents=True, exist_ok=True)
        for old in BENCH_VAR.glob("*.sqlite3*"):
            old.unlink()
        # Locks a killed run left behind would make the next run's jobs skip or refuse.
        shutil.rmtree(BENCH_VAR / "cache", ignore_errors=True)
        if self.postgres:
            self._pg_recreate(f"{PG_PREFIX}_template")
        url = self.url("template")
        env = bench_environ(url)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        return url

    def for_group(self, group: str) -> str:
        """A fresh copy of the template for one scenario group."""
        if self.postgres:
            self._pg_recreate(f"{PG_PREFIX}_{group}", template=f"{PG_PREFIX}_template")
        else:
            target = self._sqlite_path(group)
            if not target.exists():
                shutil.copyfile(self._sqlite_path("template"), target)
        return self.url(group)

    def drop_all(self) -> None:
        if self.postgres:
            for name in reversed(self.created):
                self._pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.clear()
        else:
            for old in BENCH_VAR.glob("*.sqlite3*"):
                old.unlink()

    # -- PostgreSQL --

    def _pg_execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._pg_url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def _pg_recreate(self, name: str, template: str | None = None) -> None:
        if name in self.created and template:
            return  # a group already made in this run keeps its fixtures
        self._pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        self._pg_execute(f'CREATE DATABASE "{name}"{suffix}')
        if name not in self.created:
            self.created.append(name)
