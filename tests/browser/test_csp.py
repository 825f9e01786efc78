"""Chromium reports no Content-Security-Policy violation on the portal's pages, the top-up
confirm page's script included; the changed phone-book pages are screenshotted."""

from __future__ import annotations

import pytest

from tests.accounts.factories import PASSWORD, CustomerFactory, ResellerFactory
from tests.browser_support import SCREENSHOTS, log_in
from tests.portal.factories import mirror_from_emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER_PAGES = [
    "/my/",
    "/my/calls/",
    "/my/payments/",
    "/my/statement/",
    "/my/phonebook/",
    "/my/phonebook/add/",
    "/my/phonebook/import/",
    "/accounts/profile/",
]


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type in ("error", "warning") or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def _goto(page, url: str) -> None:
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_customer_pages_raise_no_csp_violation(new_page, vos_emulator, vos_server):
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    CustomerFactory(vos_account=account, username="zhangwei")
    page = new_page()
    problems = _watch(page)
    _goto(page, "/accounts/login/")
    assert _violations(page) == []
    log_in(page, "zhangwei", PASSWORD)
    for url in CUSTOMER_PAGES:
        _goto(page, url)
        assert _violations(page) == [], url
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


def test_the_topup_confirm_script_runs_under_the_csp(new_page, vos_emulator, vos_server):
    agent = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="agent01")
    mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    ResellerFactory(vos_account=agent, username="reseller1")
    page = new_page()
    problems = _watch(page)
    log_in(page, "reseller1", PASSWORD)
    _goto(page, "/reseller/topup/")
    page.fill("input[name=account]", "1001")
    page.fill("input[name=amount]", "1")
    page.locator("form").filter(has=page.locator("input[name=amount]")).locator(
        "[type=submit]"
    ).first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("button[name=confirm]").count() == 1
    assert _violations(page) == []
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []


@pytest.mark.parametrize("width", [1366, 390])
def test_phone_book_forms_screenshots(new_page, vos_emulator, vos_server, width):
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    CustomerFactory(vos_account=account, username="zhangwei")
    page = new_page(viewport={"width": width, "height": 900})
    log_in(page, "zhangwei", PASSWORD)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in (("add", "/my/phonebook/add/"), ("import", "/my/phonebook/import/")):
        _goto(page, url)
        assert "commas or spaces" in page.content()
        page.screenshot(path=str(SCREENSHOTS / f"phonebook-{name}-{width}.png"), full_page=True)
