"""Fixtures for online payments: the stripe provider configured, the online tasks run in-process
when queued. Use with ``pytest_plugins = ["tests.billing.online_fixtures"]``."""

from __future__ import annotations

import pytest

from billing import tasks
from tests.billing.online_support import API_KEY, WEBHOOK_SECRET


@pytest.fixture
def stripe_portal(settings):
    settings.ONLINE_PAYMENTS_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.ONLINE_PAYMENTS_CURRENCY = "USD"
    settings.ONLINE_PAYMENTS_MIN = "5"
    settings.ONLINE_PAYMENTS_MAX = "500"
    settings.ONLINE_PAYMENTS_DAILY_LIMIT = "1000"
    settings.ONLINE_PAYMENTS_PRESETS = ["10", "20", "50"]
    settings.ONLINE_REFUNDS_AUTO = False
    return settings


@pytest.fixture
def run_tasks(monkeypatch):
    """The online tasks run in-process when queued (after the commit), as a worker would."""
    ran: list[tuple[str, int]] = []

    def runner(task):
        def delay(arg):
            ran.append((task.name, arg))
            return task.apply(args=(arg,), throw=True)

        return delay

    for task in (tasks.online_credit, tasks.online_receipt_email, tasks.online_reversal):
        monkeypatch.setattr(task, "delay", runner(task))
    monkeypatch.setattr(tasks.movement_confirm, "apply_async", lambda *a, **k: None)
    monkeypatch.setattr(tasks.receipt_email, "delay", lambda *a, **k: None)
    return ran
