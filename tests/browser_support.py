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


def page_problems(page, language: str) -> list[str]:
    """What is wrong with the page in front of ``page``: not exactly one h1, sideways
    scrolling, and in Traditional Chinese any Simplified-only character outside the switch's
    own data (tests/i18n_support.py)."""
    from tests.i18n_support import demo_data_texts, simplified_left

    problems = []
    if (lang := page.locator("html").get_attribute("lang")) != language:
        problems.append(f"rendered in {lang}")
    if (h1s := page.locator("h1").count()) != 1:
        problems.append(f"{h1s} h1 elements")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"scrolls sideways by {overflow}px: {page.evaluate(WIDEST_JS)}")
    if language == "zh-hant":
        left = simplified_left(page.inner_text("body"), data=demo_data_texts())
        if left:
            problems.append(f"Simplified text: {left[:10]}")
    return problems


# The innermost elements reaching past the right edge, to name the culprit of an overflow.
WIDEST_JS = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter(el => ![...el.children].some(c =>
      c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5))
  .slice(0, 3).map(el => el.tagName.toLowerCase() + '.' + [...el.classList].join('.')
      + ' ' + el.textContent.trim().slice(0, 40))"""
