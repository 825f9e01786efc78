from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

# Page fixtures for test_browser_pages.py; `browser` below replaces the session-wide one so
# that only one Playwright instance runs at a time (tests/browser starts its own later).
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, new_page, screenshot_dir  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
