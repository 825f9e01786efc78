"""The sign-in and profile pages in Chromium at desktop and phone size (var/screenshots/)."""

from __future__ import annotations

import pytest

from tests.accounts.factories import PASSWORD, CustomerFactory
from tests.browser_support import DESKTOP, PHONE, log_in

ANONYMOUS = {
    "login": "/accounts/login/",
    "activate": "/accounts/activate/",
    "password-reset": "/accounts/password-reset/",
    "invitation-invalid": "/accounts/invitation/not-a-token/",
}
SIGNED_IN = {"profile": "/accounts/profile/", "password-change": "/accounts/password-change/"}


def _no_horizontal_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_account_pages_render_with_labels_and_without_overflow(new_page, screenshot_dir, size):
    CustomerFactory(username="wei")
    page = new_page(viewport=DESKTOP if size == "desktop" else PHONE)
    pages = list(ANONYMOUS.items())
    for name, url in pages:
        page.goto(url)
        assert page.locator("h1").count() == 1, name
        assert _no_horizontal_overflow(page) <= 0, name
        page.screenshot(path=screenshot_dir / f"accounts-{name}-{size}.png", full_page=True)
    log_in(page, "wei", PASSWORD)
    for name, url in SIGNED_IN.items():
        page.goto(url)
        assert page.locator("h1").count() == 1, name
        assert _no_horizontal_overflow(page) <= 0, name
        # Every visible input has a label.
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('main input:not([type=hidden]):not([hidden]),'
                + 'main select')].filter(e => !e.labels || e.labels.length === 0).length"""
        )
        assert unlabelled == 0, name
        page.screenshot(path=screenshot_dir / f"accounts-{name}-{size}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_choosing_chinese_on_the_profile_translates_the_pages(new_page):
    CustomerFactory(username="li")
    page = new_page(viewport=PHONE)
    log_in(page, "li", PASSWORD)
    page.goto("/accounts/profile/")
    page.select_option("#id_language", "zh-hans")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "个人资料"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
