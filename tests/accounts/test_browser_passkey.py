"""Passkeys in Chromium, with the DevTools Protocol's virtual authenticator: a reseller (who
must use two factors) adds a passkey from the two-factor page (named after the browser),
signs in with password + passkey, then with the passkey alone from the login page, and
removes it; the pages alone, a rename among them, at the other width; in en, zh-Hans and
zh-Hant, with no CSP violation and no horizontal scrolling (var/screenshots/passkey-*.png)."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditLog
from accounts.services.passkey_names import passkey_name_make
from accounts.webauthn_texts import SCRIPT_TEXTS
from tests.accounts.factories import PASSWORD, ResellerFactory
from tests.browser_support import CSP_WATCH, SIZES, log_in, page_check
from tests.mfa_support import recovery_codes, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}
# The whole ceremony at one width per language, the pages alone at the other.
CEREMONY = [("en", "desktop"), ("zh-hans", "desktop"), ("zh-hant", "phone")]
PAGES = [("en", "phone"), ("zh-hans", "phone"), ("zh-hant", "desktop")]


@pytest.fixture
def passkey_origin(settings, live_server):
    """The live server is http://localhost:<port>: the relying party is "localhost" (an IP
    address cannot be one) and that origin, port included, is the one allowed."""
    assert live_server.url.startswith("http://localhost:"), live_server.url
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    return live_server.url


def _page(new_page, live_server, size: str, language: str):
    page = new_page(viewport=SIZES[size])
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.add_init_script(CSP_WATCH)
    return page


class Authenticator:
    """A platform authenticator (fingerprint, face) made by Chromium for this page."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable")
        found = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
        self.id = found["authenticatorId"]

    def touch(self, on: bool) -> None:
        """Whether the person answers every request at once. Off while a login page is open:
        its passkey autofill (conditional mediation) would otherwise sign in by itself."""
        self.cdp.send(
            "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": self.id, "enabled": on}
        )

    def close(self) -> None:
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})
        self.cdp.send("WebAuthn.disable")


def _check(page, shots, name: str) -> None:
    page_check(page, shots / f"passkey-{name}.png", name)


def _say(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def _sign_out(page) -> None:
    menu = page.locator("details.nav-menu > summary")
    if menu.is_visible():
        menu.click()
    page.locator("header form[action='/accounts/logout/'] button:visible").first.click()
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url


def _script_texts_are_ours(page, language: str) -> None:
    """The library's script asks gettext() for its status texts: our catalogue answers."""
    page.wait_for_function("typeof window.gettext === 'function'")
    for text in SCRIPT_TEXTS:
        shown = page.evaluate("text => window.gettext(text)", text)
        assert shown == _say(language, text), text
        if language != "en":
            assert shown != text, text


def _add_passkey(page, language: str) -> None:
    button = page.locator("#passkey-register-button")
    assert button.inner_text().strip() == _say(language, "Add a passkey")
    with page.expect_navigation():  # the page loads itself again once the passkey is stored
        button.click()
    page.wait_for_load_state()


@pytest.mark.parametrize(("language", "size"), CEREMONY)
def test_reseller_adds_a_passkey_signs_in_with_it_and_removes_it(
    new_page, live_server, passkey_origin, screenshot_dir, mfa_required, language, size
):
    user = ResellerFactory(username=f"pk-{size}-{language}")
    page = _page(new_page, live_server, size, language)
    authenticator = Authenticator(page)
    finished = []  # otp_webauthn.verification_complete: came it from autofill?
    page.expose_binding("__passkeyDone", lambda _source, autofill: finished.append(autofill))
    page.add_init_script(
        "document.addEventListener('otp_webauthn.verification_complete',"
        " e => window.__passkeyDone(e.detail.fromAutofill));"
    )
    tag = f"{size}-{language}"

    # (a) enrolment after the password: a passkey from the two-factor page
    page.goto("/accounts/login/")
    _check(page, screenshot_dir, f"login-{tag}")
    log_in(page, user.username, PASSWORD)
    assert page.url.endswith("/accounts/profile/two-factor/")
    _check(page, screenshot_dir, f"enrol-{tag}")
    _script_texts_are_ours(page, language)
    _add_passkey(page, language)
    assert page.locator(".mfa-list li").count() == 1
    assert page.locator(".messages").inner_text().strip() == _say(
        language, "Your passkey is added."
    )
    assert page.locator("#recovery-codes li").count() == 10  # shown once, with the first factor
    _check(page, screenshot_dir, f"added-{tag}")
    stored = WebAuthnCredential.objects.get(user=user)
    assert AuditLog.objects.filter(action="mfa.passkey.add", detail__passkey=stored.pk).exists()
    agent = page.evaluate("navigator.userAgent")
    with translation.override(language):  # named by its provider or the browser that made it
        assert stored.name == passkey_name_make(aaguid=stored.aaguid, user_agent=agent)
    assert page.locator(".mfa-name strong").inner_text() == stored.name

    # The same authenticator again: the browser refuses, the status says so in our words.
    page.locator("#passkey-register-button").click()
    status = page.locator("#passkey-register-status-message")
    expected = _say(
        language,
        "Registration failed. You most likely already have a Passkey registered for this site.",
    )
    page.wait_for_function(
        "t => document.getElementById('passkey-register-status-message').textContent === t",
        arg=expected,
    )
    assert status.is_visible()
    assert WebAuthnCredential.objects.filter(user=user).count() == 1
    _check(page, screenshot_dir, f"again-{tag}")

    # Password, then the passkey as the second factor: the reseller's home page.
    authenticator.touch(False)
    _sign_out(page)
    log_in(page, user.username, PASSWORD)
    assert "/accounts/login/verify/" in page.url
    _check(page, screenshot_dir, f"verify-{tag}")
    authenticator.touch(True)
    with page.expect_navigation(url="**/reseller/"):
        page.locator("#passkey-verification-button").click()
    assert finished == [False]
    assert page.evaluate("window.__csp || []") == []

    # (b) the passkey alone, from the login page's passkey button
    authenticator.touch(False)
    _sign_out(page)
    page.wait_for_load_state("networkidle")
    button = page.locator("#passkey-verification-button")
    assert button.inner_text().strip() == _say(language, "Sign in with a passkey")
    authenticator.touch(True)
    with page.expect_navigation(url="**/reseller/"):
        button.click()
    assert finished == [False, False]
    _check(page, screenshot_dir, f"home-{tag}")
    stored.refresh_from_db()
    assert stored.last_used_at is not None

    # (c) removing it: the only factor of a role that needs one stays ...
    page.goto("/accounts/profile/two-factor/")
    page.locator(".mfa-list form.mfa-remove button").click()
    page.wait_for_load_state()
    assert WebAuthnCredential.objects.filter(user=user).exists()
    assert page.locator(".messages").inner_text().strip() == _say(
        language, "Your role needs a second factor: add another one before removing it."
    )
    _check(page, screenshot_dir, f"last-{tag}")
    # ... until an authenticator app backs it up.
    page.locator("a[href='/accounts/profile/two-factor/app/']").first.click()
    _check(page, screenshot_dir, f"totp-{tag}")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page.fill("input[name=code]", totp_code(device))
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/accounts/profile/two-factor/")
    page.locator(".mfa-list form.mfa-remove button").click()
    page.wait_for_load_state()
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert page.url.endswith("/accounts/profile/two-factor/")  # still signed in, verified
    assert page.locator(".mfa-list li").count() == 0
    assert page.locator(".messages").inner_text().strip() == _say(
        language, "The passkey was removed."
    )
    _check(page, screenshot_dir, f"removed-{tag}")
    page.locator("form[action='/accounts/profile/two-factor/recovery-codes/'] button").click()
    assert page.locator("#recovery-codes li").count() == 10
    _check(page, screenshot_dir, f"codes-{tag}")
    assert AuditLog.objects.filter(action="mfa.passkey.remove").exists()
    authenticator.close()


@pytest.mark.parametrize(("language", "size"), PAGES)
def test_passkey_pages_at_the_other_width(
    new_page, live_server, passkey_origin, screenshot_dir, mfa_required, language, size
):
    """The login page, the second step with a passkey and the list, without a ceremony."""
    from tests.mfa_support import passkey

    user = ResellerFactory(username=f"pkp-{size}-{language}")
    passkey(user, name="Laptop")
    codes = recovery_codes(user)
    page = _page(new_page, live_server, size, language)
    tag = f"{size}-{language}"

    page.goto("/accounts/login/")
    assert page.locator("#passkey-verification-button").is_visible()
    _check(page, screenshot_dir, f"login-{tag}")
    log_in(page, user.username, PASSWORD)
    assert "/accounts/login/verify/" in page.url
    assert page.locator("#passkey-verification-button").inner_text().strip() == _say(
        language, "Use a passkey"
    )
    _check(page, screenshot_dir, f"verify-{tag}")
    page.fill("input[name=code]", codes[0])
    page.locator("main form:has(input[name=code]) button[type=submit]").click()
    page.wait_for_load_state()
    page.goto("/accounts/profile/two-factor/")
    assert page.locator(".mfa-list li").count() == 1
    _check(page, screenshot_dir, f"overview-{tag}")

    # Renaming it: a blank name is refused beside the field, a good one is saved.
    key = WebAuthnCredential.objects.get(user=user)
    page.locator(".mfa-rename summary").click()
    field = page.get_by_label(_say(language, "Passkey name"))
    assert field.input_value() == "Laptop"
    field.fill("   ")
    page.locator(".mfa-rename button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".mfa-rename .field-error").inner_text().strip() == _say(
        language, "Enter a name for the passkey."
    )
    _check(page, screenshot_dir, f"rename-error-{tag}")
    page.get_by_label(_say(language, "Passkey name")).fill("工作手机 — office")
    page.locator(".mfa-rename button[type=submit]").click()
    page.wait_for_load_state()
    key.refresh_from_db()
    assert key.name == "工作手机 — office"
    assert page.locator(".mfa-name strong").inner_text() == key.name
    assert key.name in page.locator(".messages").inner_text()
    _check(page, screenshot_dir, f"renamed-{tag}")
