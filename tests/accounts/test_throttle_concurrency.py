"""24 attempts at once never do more than the limit's work: activation asks GetPhone at most
5 times, the login checks at most 5 passwords. Run on PostgreSQL + Redis in CI (the cache
is Redis there, so the counter is Redis INCR); on SQLite the in-process cache."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection
from django.test import Client

from accounts.services import onboarding
from tests.accounts.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

ATTEMPTS = 24


def _parallel(fn):
    start = threading.Barrier(ATTEMPTS)

    def attempt(n):
        close_old_connections()
        try:
            start.wait()
            return fn(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        return list(pool.map(attempt, range(ATTEMPTS)))


def test_24_activation_attempts_at_once_ask_vos_at_most_5_times(vos_server, vos_emulator):
    vos_emulator.faults.latency_ms = 100  # every check is still running when the rest arrive

    def attempt(n):
        try:
            onboarding.activation_check(
                phone="8613800001001", password=f"wrong{n}", ip="203.0.113.9"
            )
        except onboarding.ActivationThrottled:
            return "throttled"
        except onboarding.ActivationRefused:
            return "refused"
        return "proven"

    results = _parallel(attempt)

    assert vos_emulator.calls["GetPhone"] <= onboarding.ACTIVATION_MAX_ATTEMPTS
    assert results.count("refused") == vos_emulator.calls["GetPhone"]
    assert results.count("throttled") >= ATTEMPTS - onboarding.ACTIVATION_MAX_ATTEMPTS


def test_an_unreachable_switch_gives_the_attempt_back(db):
    from tests.telephony.factories import VosServerFactory

    VosServerFactory(url="http://127.0.0.1:9/external/server", connect_timeout=0.2)
    for _ in range(onboarding.ACTIVATION_MAX_ATTEMPTS + 2):
        with pytest.raises(onboarding.ActivationUnavailable):
            onboarding.activation_check(phone="8613800001001", password="x", ip="203.0.113.10")


def test_24_logins_at_once_check_at_most_5_passwords(settings, monkeypatch):
    user = CustomerFactory()
    checks = []
    model = get_user_model()
    original = model.check_password

    def counted(self, raw):
        checks.append(raw)
        return original(self, raw)

    monkeypatch.setattr(model, "check_password", counted)

    def attempt(n):
        response = Client(raise_request_exception=False).post(
            "/accounts/login/",
            {"username": user.username, "password": f"wrong{n}"},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
        return response.status_code

    statuses = _parallel(attempt)

    assert len(checks) <= settings.AXES_FAILURE_LIMIT
    assert statuses.count(429) >= ATTEMPTS - settings.AXES_FAILURE_LIMIT
    if not _in_memory_sqlite():
        # The in-memory test database of SQLite locks whole tables without waiting
        # (shared cache), so axes' own writes may fail there; a file database waits.
        assert 500 not in statuses


def _in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"])
