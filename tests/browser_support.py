"""Playwright helpers shared by the browser tests (fixtures live in tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots"
# The two widths the sign-in pages are checked at (a common laptop, a common phone).
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": PHONE}
# page.add_init_script(CSP_WATCH): every Content-Security-Policy violation lands in __csp.
CSP_WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def page_check(page, path: Path, name: str) -> None:
    """One heading, no CSP violation, no horizontal scrolling; a full-page screenshot."""
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").count() == 1, name
    assert page.evaluate("window.__csp || []") == [], name
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, name
    page.screenshot(path=path, full_page=True)


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form").filter(has=page.locator("input[name=password]")).locator(
        "[type=submit]"
    ).first.click()
    page.wait_for_load_state()
