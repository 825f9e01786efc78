"""The customer's pages in a real browser, against the demo emulator."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from telephony.money import format_money
from tests.accounts.factories import PASSWORD, CustomerFactory
from tests.browser_support import PHONE, log_in
from tests.portal.factories import mirror_from_emulator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def zhang(vos_emulator, vos_server):
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    return CustomerFactory(vos_account=account, username="zhangwei")


@pytest.fixture
def logged_in(page, zhang):
    log_in(page, "zhangwei", PASSWORD)
    return page


def test_logging_in_lands_on_a_dashboard_with_the_emulators_figures(logged_in, vos_emulator):
    page = logged_in
    assert page.url.endswith("/my/")
    state = vos_emulator.state
    balance = state.balance("1001")
    assert page.text_content("[data-figure=balance]").strip() == format_money(balance)
    limit = state.customers["1001"]["limitMoney"]
    assert page.text_content("[data-figure=limit]").strip() == format_money(limit)
    assert page.text_content("[data-figure=available]").strip() == format_money(balance + limit)
    today = state.today_consumption("1001")
    assert page.text_content("[data-figure=today]").strip() == format_money(today)
    assert page.locator(".spend-chart svg rect.bar").count() == 30
    assert "your balance lasts about" in page.text_content("#burn-rate")


def test_filtering_calls_and_exporting_the_filter_as_csv(logged_in):
    page = logged_in
    page.goto("/my/calls/")
    start = (timezone.localdate() - timedelta(days=6)).isoformat()
    page.fill("#id_start", start)
    page.select_option("#id_outcome", "unanswered")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_load_state()
    calls = int(page.text_content("[data-figure=calls]"))
    assert calls > 0
    assert page.text_content("[data-figure=answered]").strip() == "0"
    assert "outcome=unanswered" in page.url
    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    download = download_info.value
    assert download.suggested_filename.startswith("calls-1001-")
    body = open(download.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == calls + 1
    assert {r[3] for r in rows[1:]} == {"0"}


def test_adding_editing_and_deleting_a_phone_book_entry(logged_in, vos_emulator):
    page = logged_in

    def entries():
        return {e["e164"]: e for e in vos_emulator.state.phone_books["1001"]}

    page.goto("/my/phonebook/")
    page.click("text=Add entry")
    page.fill("#id_e164", "12")
    page.click("main form button[type=submit]")
    assert "Enter 3 to 32 digits" in page.text_content(".field-error")
    page.fill("#id_e164", "8613700000001")
    page.fill("#id_name", "陈静")
    page.fill("#id_short_numbers", "805")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/my/phonebook/")
    assert entries()["8613700000001"]["name"] == "陈静"
    assert page.locator("tr[data-e164='8613700000001']").count() == 1

    page.click("tr[data-e164='8613700000001'] >> text=Edit")
    page.fill("#id_e164", "8613700000002")
    page.fill("#id_name", "陈静 (mobile)")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/my/phonebook/")
    assert "8613700000001" not in entries()
    assert entries()["8613700000002"]["name"] == "陈静 (mobile)"

    page.click("tr[data-e164='8613700000002'] >> text=Delete")
    assert "Delete" in page.text_content("h1")
    page.click("button.button-danger")
    page.wait_for_url("**/my/phonebook/")
    assert "8613700000002" not in entries()
    assert "was deleted" in page.text_content(".messages")


def test_the_statement_adds_up(logged_in):
    page = logged_in
    page.goto("/my/statement/")

    def figure(name: str) -> Decimal:
        text = page.text_content(f"[data-figure={name}]").strip()
        return Decimal(text.replace("USD", "").replace(",", "").strip())

    total = figure("opening") + figure("payments") + figure("adjustments")
    total -= figure("calls") + figure("other")
    assert total == figure("closing")
    assert page.locator("#statement-identity").is_visible()
    assert page.locator("[data-print]").is_visible()  # the print button needs JavaScript


def test_switching_to_chinese(logged_in):
    page = logged_in
    page.select_option("#lang-select", "zh-hans")
    page.click(".lang-form button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert page.text_content("h1").strip() == "概览"


def test_vos_down_shows_a_notice_and_the_last_known_figures(logged_in, vos_emulator, settings):
    page = logged_in
    balance = page.text_content("[data-figure=balance]").strip()
    vos_emulator.faults.error_rate = 1.0
    # The dashboard asks VOS only when its figures are older than this window.
    settings.DASHBOARD_REFRESH_AFTER_SECONDS = 0
    page.reload()
    assert "The switch is not answering right now." in page.text_content("main")
    assert page.text_content("[data-figure=balance]").strip() == balance
    assert "Figures as of" in page.text_content("#as-of")
    page.goto("/my/phonebook/")
    assert "The switch is not answering right now." in page.text_content("main")
    assert page.locator("table").count() == 0


def test_the_dashboard_works_on_a_phone(new_page, zhang):
    page = new_page(viewport=PHONE)
    log_in(page, "zhangwei", PASSWORD)
    assert page.locator("[data-figure=balance]").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
