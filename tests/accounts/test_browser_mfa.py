"""Two-factor sign-in in Chromium: a reseller enrols an authenticator app after the password,
gets recovery codes, then signs in again with a code; at 1366 and 390 px, in en and zh-Hans,
with no Content-Security-Policy violation (var/screenshots/mfa-*.png)."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import PASSWORD, ResellerFactory
from tests.browser_support import CSP_WATCH, SIZES, log_in, page_check
from tests.mfa_support import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check(page, shots, name: str) -> None:
    page_check(page, shots / f"mfa-{name}.png", name)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_reseller_enrols_an_app_and_signs_in_with_a_code(
    new_page, live_server, screenshot_dir, mfa_required, size, language
):
    user = ResellerFactory(username=f"r-{size}-{language}")
    page = new_page(viewport=SIZES[size])
    host = live_server.url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )
    page.add_init_script(CSP_WATCH)
    tag = f"{size}-{language}"

    page.goto("/accounts/login/")
    assert page.locator("#passkey-verification-button").count() == 1  # passwordless offer
    _check(page, screenshot_dir, f"login-{tag}")
    log_in(page, user.username, PASSWORD)
    assert page.url.endswith("/accounts/profile/two-factor/")
    _check(page, screenshot_dir, f"enrol-{tag}")

    page.goto("/reseller/")
    assert page.url.endswith("/accounts/profile/two-factor/")  # nothing else until enrolled
    page.locator("a[href='/accounts/profile/two-factor/app/']").first.click()
    assert page.locator("#totp-secret").inner_text().strip()
    assert page.locator(".mfa-qr svg").count() == 1
    _check(page, screenshot_dir, f"totp-{tag}")

    page.fill("input[name=code]", "12")
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    assert page.locator(".field-error").count() == 1
    _check(page, screenshot_dir, f"totp-error-{tag}")

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page.fill("input[name=code]", totp_code(device))
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    assert page.locator("#recovery-codes li").count() == 10
    _check(page, screenshot_dir, f"recovery-{tag}")

    page.goto("/accounts/profile/two-factor/")
    _check(page, screenshot_dir, f"overview-{tag}")

    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )
    log_in(page, user.username, PASSWORD)
    assert "/accounts/login/verify/" in page.url
    page.fill("input[name=code]", "000")
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    assert page.locator(".field-error").count() == 1
    _check(page, screenshot_dir, f"verify-{tag}")
    page.fill("input[name=code]", totp_code(device, offset_steps=1))
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/reseller/")
