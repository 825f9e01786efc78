"""Settings come from the environment; a bad value stops the start with the variable's name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "".join(chr(65 + i % 50) for i in range(60)),
    "ALLOWED_HOSTS": "portal.example.com",
    "PORTAL_ENV_FILE": "/nonexistent",
}


def production_env() -> dict[str, str]:
    """This process's environment less what tests set, plus production settings."""
    dropped = {"DATABASE_URL", "REDIS_URL", "PORTAL_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **PROD}


def start(**overrides: str) -> subprocess.CompletedProcess:
    env = production_env()
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_start():
    result = start()
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    "variable, value",
    [
        ("SECRET_KEY", ""),
        ("ALLOWED_HOSTS", ""),
        ("DATABASE_URL", "nosuchdb://x"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("VOS_URL", "10.0.0.5:8080/external/server"),
        ("VOS_TIMEOUT", "soon"),
        ("VOS_TIMEOUT", "-1"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("VOS_TIME_ZONE", "Nowhere"),
        ("DEBUG", "perhaps"),
        ("SYNC_BALANCE_BATCH", "many"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    result = start(**{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def test_the_deploy_check_is_clean_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_server_named_by_vos_url_is_created_and_updated(db, settings):
    from telephony.models import VosServer
    from telephony.signals import ensure_configured_server

    settings.VOS_URL = "http://10.0.0.5:8080/external/server/"
    settings.VOS_SERVER_NAME = "main"
    settings.VOS_TIME_ZONE = "Asia/Shanghai"
    ensure_configured_server()
    settings.VOS_URL = "https://10.0.0.6:5827/external_new/server"
    server = ensure_configured_server()
    assert VosServer.objects.filter(name="main").count() == 1
    assert server.url == "https://10.0.0.6:5827/external_new/server"
    assert server.time_zone == "Asia/Shanghai"


def test_makemigrations_runs_on_a_bare_checkout_without_secrets():
    env = production_env()
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"):
        env.pop(name)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    served = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--plan"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode != 0 and "SECRET_KEY" in served.stderr
