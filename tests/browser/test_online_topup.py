"""A new customer tops up online in the browser through the test gateway and sees the new
balance; screenshots of the online pages at 1366 and 390 px (var/screenshots/)."""

from __future__ import annotations

import re

import pytest

from billing.models import OnlinePayment
from tests.accounts.factories import PASSWORD, CustomerFactory
from tests.billing.online_support import portal_pays
from tests.browser_support import PHONE, log_in
from tests.portal.factories import mirror_from_emulator

pytest_plugins = ["tests.billing.online_fixtures"]

WIDE = {"width": 1366, "height": 900}


def _no_overflow(page, name: str) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_customer_tops_up_online_and_sees_the_new_balance(
    new_page, vos_emulator, vos_server, screenshot_dir, settings, run_tasks, size
):
    settings.ONLINE_PAYMENTS_PROVIDER = "test"
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    CustomerFactory(vos_account=account, username="newcomer")
    page = new_page(viewport=WIDE if size == "desktop" else PHONE)
    log_in(page, "newcomer", PASSWORD)

    page.goto("/my/topup/")
    page.screenshot(path=str(screenshot_dir / f"topup-{size}.png"), full_page=True)
    _no_overflow(page, "topup")
    page.get_by_label("USD 20.00").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/my/topup/test-gateway/"))
    payment = OnlinePayment.objects.get()
    page.screenshot(path=str(screenshot_dir / f"topup-gateway-{size}.png"), full_page=True)

    # The customer comes back before the notification: "confirming", refreshing itself.
    return_page = page.url.replace("/test-gateway/", "/")
    confirming = new_page(viewport=WIDE if size == "desktop" else PHONE)
    log_in(confirming, "newcomer", PASSWORD)
    confirming.goto(return_page)
    assert "Confirming your payment" in confirming.content()
    assert confirming.locator('meta[http-equiv="refresh"]').count() == 1
    confirming.screenshot(path=str(screenshot_dir / f"topup-confirming-{size}.png"))

    page.get_by_label("Alipay").check()
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(rf"/my/topup/{payment.reference}/$"))
    assert "Paid and credited" in page.content()
    page.screenshot(path=str(screenshot_dir / f"topup-receipt-{size}.png"), full_page=True)
    _no_overflow(page, "receipt")
    page.reload()
    page.reload()

    balance = vos_emulator.state.balance("1001")
    page.goto("/my/")
    shown = page.locator("[data-figure=balance]").inner_text()
    assert shown == f"USD {balance:,.2f}"
    page.goto("/my/payments/")
    assert page.locator('tr[data-state="credited"]').count() == 1
    page.screenshot(path=str(screenshot_dir / f"payments-online-{size}.png"), full_page=True)
    _no_overflow(page, "payments")
    assert len(portal_pays(vos_emulator)) == 1
