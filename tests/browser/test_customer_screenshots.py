"""Screenshots of every customer page at 1366 and 390 px in English, Simplified and
Traditional Chinese (var/screenshots/); the self-service pages are in
test_selfservice_screenshots.py."""

from __future__ import annotations

import pytest

from tests.accounts.factories import PASSWORD, CustomerFactory
from tests.browser_support import PHONE, log_in, page_problems
from tests.portal.factories import mirror_from_emulator

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": PHONE}
LANGUAGES = ["en", "zh-hans", "zh-hant"]
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
    "online-topup": "/my/topup/",
    "profile": "/accounts/profile/",
    "two-factor": "/accounts/profile/two-factor/",
    "password-change": "/accounts/password-change/",
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_customer_page_renders_without_horizontal_overflow(
    new_page, vos_emulator, vos_server, screenshot_dir, settings, size, language
):
    settings.ONLINE_PAYMENTS_PROVIDER = "test"
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    user = CustomerFactory(vos_account=account, username="zhangwei")
    user.profile.time_zone = "Asia/Shanghai"
    user.profile.language = language
    user.profile.save()
    page = new_page(viewport=SIZES[size])
    log_in(page, "zhangwei", PASSWORD)
    pages = {
        **PAGES,
        "calls-empty": "/my/calls/?start=2000-01-01&end=2000-01-02",
        "calls-week": f"/my/calls/?start={_days_ago(6)}&end={_days_ago(0)}",
    }
    for name, url in pages.items():
        page.goto(url)
        problems = page_problems(page, language)
        if size == "desktop":
            # At desktop width every table fits its card: nothing to scroll sideways inside.
            wide = page.evaluate(
                "[...document.querySelectorAll('.table-wrap')]"
                ".filter(w => w.scrollWidth > w.clientWidth + 1).length"
            )
            if wide:
                problems.append(f"{wide} table(s) scroll sideways")
        page.screenshot(path=str(screenshot_dir / f"{name}-{size}-{language}.png"), full_page=True)
        assert problems == [], f"{name} ({size}, {language})"


def _days_ago(days: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() - timedelta(days=days)).isoformat()
