"""The API keys and webhooks pages at desktop (1366) and phone (390) width, in English,
Simplified and Traditional Chinese."""

from __future__ import annotations

import pytest

from accounts.services.audit import Actor
from billing.services import webhooks
from tests.accounts.factories import PASSWORD
from tests.api.support import key_for
from tests.billing.factories import demo_world
from tests.browser_support import PHONE, log_in, page_problems

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": PHONE}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_api_keys_and_webhooks_pages_fit_the_screen(
    new_page, vos_server, vos_client, screenshot_dir, size
):
    world = demo_world(vos_server, vos_client)
    key_for(world.reseller, allowed_ips=["203.0.113.0/24"])
    endpoint = webhooks.endpoint_create(
        actor=Actor(user=world.reseller),
        owner=world.reseller,
        url="http://127.0.0.1:9/a-rather-long-path/for/the/webhook/receiver",
        events=["transaction.applied", "customer.locked"],
    )
    webhooks.test_event_send(endpoint=endpoint)
    page = new_page(viewport=SIZES[size])
    log_in(page, "sunrise", PASSWORD)
    for name, url in {
        "api-keys": "/accounts/profile/api-keys/",
        "webhooks": "/reseller/webhooks/",
    }.items():
        for language in ("en", "zh-hans", "zh-hant"):
            page.goto(url)
            page.select_option("select[name=language]", language)
            page.locator("form").filter(has=page.locator("select[name=language]")).locator(
                "[type=submit]"
            ).click()
            page.wait_for_load_state()
            page.goto(url)
            problems = page_problems(page, language)
            page.screenshot(
                path=str(screenshot_dir / f"api-{name}-{language}-{size}.png"), full_page=True
            )
            assert problems == [], (name, language)
