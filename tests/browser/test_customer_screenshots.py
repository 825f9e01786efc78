"""Screenshots of every customer page at desktop and phone size (var/screenshots/)."""

from __future__ import annotations

import pytest

from tests.accounts.factories import PASSWORD, CustomerFactory
from tests.browser_support import DESKTOP, PHONE, log_in
from tests.portal.factories import mirror_from_emulator

PAGES = {
    "dashboard": "/my/",
    "calls": "/my/calls/",
    "payments": "/my/payments/",
    "statement": "/my/statement/",
    "phonebook": "/my/phonebook/",
    "phonebook-add": "/my/phonebook/add/",
    "phonebook-edit": "/my/phonebook/8613912345678/edit/",
    "phonebook-delete": "/my/phonebook/8613912345678/delete/",
    "phonebook-import": "/my/phonebook/import/",
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_customer_page_renders_without_horizontal_overflow(
    new_page, vos_emulator, vos_server, screenshot_dir, size
):
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    user = CustomerFactory(vos_account=account, username="zhangwei")
    user.profile.time_zone = "Asia/Shanghai"
    user.profile.save()
    page = new_page(viewport=DESKTOP if size == "desktop" else PHONE)
    log_in(page, "zhangwei", PASSWORD)
    for name, url in PAGES.items():
        page.goto(url)
        assert page.locator("h1").count() == 1, name
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        page.screenshot(path=str(screenshot_dir / f"{name}-{size}.png"), full_page=True)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {size} size"
    page.goto("/my/calls/?start=2000-01-01&end=2000-01-02")
    page.goto(f"/my/calls/?start={_days_ago(6)}&end={_days_ago(0)}")
    page.screenshot(path=str(screenshot_dir / f"calls-week-{size}.png"), full_page=True)


def _days_ago(days: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() - timedelta(days=days)).isoformat()
