"""Reseller, staff and customer pages at phone (390 px) and desktop (1366 px) width, in
English, Simplified and Traditional Chinese: one h1, no sideways scrolling of the page, no
Simplified text in Traditional Chinese, the menu button stays put, amounts stay on one line.
Screenshots in var/screenshots/."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.models import Profile
from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry
from billing.services import topups
from telephony.models import VosAccount
from tests.accounts.factories import PASSWORD, StaffFactory
from tests.billing.factories import demo_world
from tests.browser_support import PHONE, log_in, page_problems

DESKTOP = {"width": 1366, "height": 800}  # the desktop width pages are checked at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESELLER_PAGES = {
    "reseller-customers": "/reseller/",
    "reseller-topups": "/reseller/topups/",
    "reseller-topup": "/reseller/topup/?account=1004&deduct=1",
    "reseller-customer": "/reseller/customer/1004/",
    "reseller-customer-new": "/reseller/customers/new/",
}
LANGUAGES = ["en", "zh-hans", "zh-hant"]
STAFF_PAGES = {"staff-home": "/staff/", "staff-status": "/staff/status/"}
CUSTOMER_PAGES = {"customer-dashboard": "/my/", "customer-payments": "/my/payments/"}


@pytest.fixture
def world(vos_server, vos_client, vos_emulator):
    world = demo_world(vos_server, vos_client)
    # 1001's own top-up, so its Payments page shows a row that is "just applied".
    topups.topup_submit(
        actor=Actor(user=world.reseller, ip=None),
        agent=reseller_agent(world.reseller),
        movement=topups.TopupRequest(
            customer=world.account("1001"),
            amount=Decimal("150"),
            deduct=False,
            memo="充值 微信支付",
            idempotency_key=str(uuid.uuid4()),
        ),
    )
    # Amounts of 100 and more, the ones that used to wrap as "USD / 100.74".
    VosAccount.objects.filter(server=vos_server).update(balance=Decimal("12345.67"))
    Profile.objects.filter(user=world.reseller).update(allow_negative_balance=True)
    for account, amount, deduct in (("1004", "100.74", False), ("1004", "20", True)):
        topups.topup_submit(
            actor=Actor(user=world.reseller, ip=None),
            agent=reseller_agent(world.reseller),
            movement=topups.TopupRequest(
                customer=world.account(account),
                amount=Decimal(amount),
                deduct=deduct,
                memo="微信支付 WeChat Pay",
                idempotency_key=str(uuid.uuid4()),
            ),
        )
    return world


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _wrapped_amounts(page) -> list[str]:
    """Texts of amount cells/figures that take more than one line."""
    return page.evaluate(
        "(lines) => [...document.querySelectorAll('td.num, dd.amount, .stat-value')]"
        ".filter(el => el.offsetParent !== null && /\\d/.test(el.textContent))"
        ".filter(el => eval(lines)(el) > 1).map(el => el.textContent.trim())",
        LINES_JS,
    )


def _visit(page, pages, screenshot_dir, suffix, language):
    for name, url in pages.items():
        page.goto(url)
        problems = page_problems(page, language)
        page.screenshot(path=str(screenshot_dir / f"{name}-{suffix}.png"), full_page=True)
        assert problems == [], f"{name} ({suffix})"
        if suffix.startswith("phone"):
            assert _wrapped_amounts(page) == [], f"{name}: amounts wrap ({suffix})"


def _inside(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


LINES_JS = """el => {
  const tops = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange(); range.selectNodeContents(walker.currentNode);
    for (const r of range.getClientRects()) {
      if (!tops.some(t => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
    }
  }
  return tops.length;
}"""


def _one_line(locator) -> bool:
    return locator.evaluate(LINES_JS) == 1


def _key_columns_on_screen(page) -> None:
    """The customers' status and Top up button, the top-ups' date and state badge: visible
    without scrolling anything, a date on one line, a badge not stacked letter by letter."""
    page.goto("/reseller/")
    first = page.locator(".customers-table tbody tr").first
    assert _inside(page, first.locator(".badge").first)
    assert _inside(page, first.locator("a.button"))
    page.goto("/reseller/topups/")
    first = page.locator(".movements-table tbody tr").first
    assert _one_line(first.locator("td").first)
    assert _one_line(first.locator(".badge").first)
    assert _inside(page, first.locator(".badge").first)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_reseller_pages_fit_the_screen(
    new_page, world, screenshot_dir, language, size, vos_emulator
):
    page = new_page(viewport=PHONE if size == "phone" else DESKTOP, locale=language)
    Profile.objects.filter(user=world.reseller).update(language=language)
    log_in(page, "sunrise", PASSWORD)
    receipt = LedgerEntry.objects.filter(account="1004").latest("pk").pk
    pages = {**RESELLER_PAGES, "reseller-receipt": f"/reseller/topups/{receipt}/"}
    _visit(page, pages, screenshot_dir, f"{size}-{language}", language)
    if size == "phone":
        _key_columns_on_screen(page)
    # The confirm step of a deduction.
    page.goto("/reseller/topup/?account=1004&deduct=1")
    page.fill("#id_amount", "15.5")
    page.click("button[name=review]")
    page.wait_for_load_state()
    problems = page_problems(page, language)
    page.screenshot(
        path=str(screenshot_dir / f"reseller-confirm-{size}-{language}.png"), full_page=True
    )
    assert page.locator("[data-direction=deduct] button.button-danger").count() == 1
    assert problems == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_staff_pages_fit_the_screen(new_page, world, screenshot_dir, language, size):
    staff = StaffFactory(username="ops", is_superuser=True)
    Profile.objects.filter(user=staff).update(language=language)
    page = new_page(viewport=PHONE if size == "phone" else DESKTOP, locale=language)
    log_in(page, "ops", PASSWORD)
    _visit(page, STAFF_PAGES, screenshot_dir, f"{size}-{language}", language)
    page.goto("/admin/")
    page.screenshot(path=str(screenshot_dir / f"admin-{size}-{language}.png"), full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_customer_pages_fit_and_amounts_do_not_wrap(
    new_page, world, screenshot_dir, language, size
):
    Profile.objects.filter(user=world.customer).update(language=language)
    VosAccount.objects.filter(account="1001").update(balance=Decimal("100.74"))
    page = new_page(viewport=PHONE if size == "phone" else DESKTOP, locale=language)
    log_in(page, "zhangwei", PASSWORD)
    _visit(page, CUSTOMER_PAGES, screenshot_dir, f"{size}-{language}", language)


def test_opening_the_menu_leaves_the_button_where_it_was(new_page, world):
    page = new_page(viewport=PHONE)
    log_in(page, "sunrise", PASSWORD)
    summary = page.locator(".nav-menu > summary")
    before = summary.bounding_box()
    summary.click()
    assert page.locator(".nav-menu nav").is_visible()
    after = summary.bounding_box()
    assert (round(after["x"]), round(after["y"])) == (round(before["x"]), round(before["y"]))
    assert overflow(page) <= 0
