"""Screenshots of the self-service pages (rates, card top-up, phones, the reseller's phone
pages) at 1366 and 390 px, in English, Simplified and Traditional Chinese (var/screenshots/)."""

from __future__ import annotations

import pytest

from tests.accounts.factories import PASSWORD
from tests.browser_support import log_in, page_problems

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {"en": "en", "zh": "zh-hans", "hant": "zh-hant"}
CUSTOMER_PAGES = {
    "rates": "/my/rates/",
    "rates-search": "/my/rates/?q=1876",
    "rates-country": "/my/rates/?q=Nepal",
    "rates-country-hant": "/my/rates/?q=美國",
    "rates-talk": "/my/rates/?number=447700900123",
    "card-topup": "/my/topup/card/",
    "phones": "/my/phones/",
    "phone-password": "/my/phones/8613800001001/password/",
    "phone-cap": "/my/phones/8613800001001/cap/",
    "dashboard-selfservice": "/my/",
    "calls-country": "/my/calls/",
}
RESELLER_PAGES = {
    "reseller-rates": "/reseller/customer/1001/rates/",
    "reseller-phones": "/reseller/customer/1001/phones/",
    "reseller-phone-remove": "/reseller/customer/1001/phones/8613900001001/remove/",
    "reseller-cap-ceiling": "/reseller/customer/1001/cap-ceiling/",
    "reseller-access": "/reseller/customer/1001/access/",
}


def _world(vos_server, vos_emulator):
    from telephony.services.rates import rates_sync
    from telephony.vos import client_for
    from tests.billing.factories import demo_world

    world = demo_world(vos_server, client_for(vos_server))
    rates_sync(server=vos_server, client=client_for(vos_server))
    return world


def _shoot(page, pages, screenshot_dir, suffix, language):
    for name, url in pages.items():
        if url:
            page.goto(url)
        problems = page_problems(page, language)
        page.screenshot(path=str(screenshot_dir / f"{name}-{suffix}.png"), full_page=True)
        page.screenshot(path=str(screenshot_dir / f"{name}-{suffix}-top.png"))
        assert problems == [], f"{name} ({suffix})"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_self_service_pages_render_in_every_language_without_overflow(
    new_page, vos_emulator, vos_server, screenshot_dir, size, language
):
    world = _world(vos_server, vos_emulator)
    for user in (world.customer, world.reseller):
        user.profile.language = LANGUAGES[language]
        user.profile.save()
    headers = {"Accept-Language": LANGUAGES[language]}
    page = new_page(viewport=SIZES[size], extra_http_headers=headers)
    log_in(page, world.customer.username, PASSWORD)
    _shoot(page, CUSTOMER_PAGES, screenshot_dir, f"{size}-{language}", LANGUAGES[language])
    page.goto("/my/topup/card/")
    page.fill("input[name=pin]", "9000000002")
    page.fill("input[name=password]", "222222")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/my/topups/" in page.url
    _shoot(page, {"card-receipt": ""}, screenshot_dir, f"{size}-{language}", LANGUAGES[language])
    page.goto("/my/topup/card/")
    page.fill("input[name=pin]", "9000000005")
    page.fill("input[name=password]", "555555")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    _shoot(page, {"card-used": ""}, screenshot_dir, f"{size}-{language}", LANGUAGES[language])

    page2 = new_page(viewport=SIZES[size], extra_http_headers=headers)
    log_in(page2, world.reseller.username, PASSWORD)
    _shoot(page2, RESELLER_PAGES, screenshot_dir, f"{size}-{language}", LANGUAGES[language])
