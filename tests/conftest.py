"""Shared fixtures: the VOS3000 emulator on loopback, a VosServer row pointing at it, users."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, SCREENSHOTS
from tests.emulator_fixtures import vos_emulator, vos_emulator_empty  # noqa: F401
from tests.mfa_support import mfa_required  # noqa: F401


@pytest.fixture
def vos_server(db, vos_emulator):  # noqa: F811
    """A VosServer row whose interface root is a running demo emulator."""
    from telephony.models import VosServer

    return VosServer.objects.create(
        name="emu", url=vos_emulator.url, connect_timeout=2, read_timeout=5
    )


@pytest.fixture
def vos_client(vos_emulator):  # noqa: F811
    """A VosClient for the demo emulator, with fast retries."""
    from telephony.vos import VosClient

    return VosClient(
        vos_emulator.url, name="emu", connect_timeout=2, read_timeout=5, retry_backoff=0.01
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles and job locks live in the cache (Redis in CI), rendered fragments in the
    process's own memory: start every test clean."""
    from django.core.cache import caches

    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def _default_time_zone_and_language():
    """A request activates its user's time zone and language in the thread that served it
    (the test's own, with Django's test client) and the next request sets them again; a
    test starts and ends on the defaults, so "today" in its own code is the default zone's
    and a message a service returns is in the default language."""
    from django.utils import timezone, translation

    timezone.deactivate()
    translation.deactivate()
    yield
    timezone.deactivate()
    translation.deactivate()


@pytest.fixture(autouse=True)
def _second_factor_optional(settings):
    """Tests sign staff and resellers in with force_login or the password form alone: the
    second factor is opt-in here (``mfa_required`` in tests/mfa_support.py turns the
    production default, MFA_REQUIRED_ROLES="staff,reseller", back on)."""
    settings.MFA_REQUIRED_ROLES = []


# --- Browser tests: ONE Playwright instance and Chromium for the whole run ----------------
# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves stay synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(viewport=DESKTOP) -> a Page in a fresh context whose base URL is the server."""
    contexts = []

    def make(viewport: dict | None = None, **options):
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            base_url=live_server.url,
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def celery_eager():
    """Run queued Celery tasks at once, in the test's process (as a worker would run them)."""
    from portal.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
