"""Two-factor sign-in: the code step, enrolment, nobody skips it, staff reset is audited."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditLog
from accounts.services import mfa
from accounts.services.audit import Actor
from tests.accounts.factories import PASSWORD, CustomerFactory, ResellerFactory, StaffFactory
from tests.mfa_support import (
    passkey,
    recovery_codes,
    totp_code,
    totp_device,
    verified_login,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
VERIFY = "/accounts/login/verify/"
MFA = "/accounts/profile/two-factor/"
TOTP_ADD = "/accounts/profile/two-factor/app/"


def _login(client, user, ip="203.0.113.10", next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


# --- enrolment is required for staff and resellers ---------------------------------------------


@pytest.mark.parametrize("factory", [ResellerFactory, StaffFactory])
def test_required_role_without_a_device_is_sent_to_enrolment_and_nowhere_else(
    client,
    mfa_required,
    factory,
):
    user = factory()
    response = _login(client, user)
    assert response.status_code == 302
    for url in [
        "/",
        "/reseller/",
        "/staff/",
        "/admin/",
        "/accounts/profile/",
        "/my/",
        "/accounts/password-change/",
        "/accounts/profile/api-keys/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == MFA, url
    page = client.get(MFA)
    assert page.status_code == 200
    assert "needs a second factor" in page.content.decode()


def test_customer_is_not_asked_for_a_second_factor_by_default(client, mfa_required):
    user = CustomerFactory()
    _login(client, user)
    assert client.get("/my/").status_code == 200


def test_production_default_requires_staff_and_resellers():
    from pathlib import Path

    settings_text = Path("portal/settings.py").read_text()
    assert re.search(r'"MFA_REQUIRED_ROLES", str, default="staff,reseller"', settings_text)


def test_totp_enrolment_shows_the_secret_as_qr_and_text_and_confirms_with_a_code(
    client,
    mfa_required,
):
    user = ResellerFactory()
    _login(client, user)
    page = client.get(TOTP_ADD)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'id="totp-secret"' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    wrong = client.post(TOTP_ADD, {"code": "12345"})
    assert "6 digits" in wrong.content.decode()
    assert TOTPDevice.objects.get(user=user).pk == device.pk  # the same secret, shown again

    done = client.post(TOTP_ADD, {"code": totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/reseller/").status_code == 200  # the session counts as verified
    assert AuditLog.objects.filter(action="mfa.totp.add", user=user).exists()


def test_an_expired_totp_setup_says_so(client):
    user = CustomerFactory()
    client.force_login(user)
    response = client.post(TOTP_ADD, {"code": "123456"})
    assert "expired" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- the second step ---------------------------------------------------------------------------


def test_login_with_a_device_asks_for_the_code_before_anything_else(client):
    user = CustomerFactory()
    device = totp_device(user)
    _login(client, user, next_url="/my/")
    for url in [
        "/my/",
        "/",
        "/accounts/profile/",
        MFA,
        TOTP_ADD,
        "/admin/",
        "/accounts/password-change/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(VERIFY), url
    begin_register = client.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin_register.status_code == 302 and begin_register["Location"].startswith(VERIFY)
    page = client.get(VERIFY + "?next=/my/")
    assert page.status_code == 200
    response = client.post(VERIFY, {"code": totp_code(device), "next": "/my/"})
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert client.get("/my/").status_code == 200


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the code"),
        ("12ab", "6-digit code"),
        ("000000", "not right"),
        ("zzzzzzzzzzzz", "not right"),
    ],
)
def test_bad_codes_get_a_clear_message_and_stay_out(client, code, message):
    user = CustomerFactory()
    device = totp_device(user)
    recovery_codes(user)
    if code == "000000" and totp_code(device) == "000000":
        code = "111111"
    client.force_login(user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert client.get("/my/").status_code == 302


def test_a_recovery_code_works_once(client):
    user = CustomerFactory()
    totp_device(user)
    code = recovery_codes(user)[0]
    client.force_login(user)
    assert client.post(VERIFY, {"code": code.upper()}).status_code == 302
    assert client.get("/my/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()
    client.logout()
    client.force_login(user)
    response = client.post(VERIFY, {"code": code})
    assert "not right" in response.content.decode()


def test_wrong_codes_are_throttled_and_counted_by_axes(client, settings):
    user = CustomerFactory()
    device = totp_device(user)
    client.force_login(user)
    for _i in range(settings.AXES_FAILURE_LIMIT):
        client.post(VERIFY, {"code": "99999999999"})  # malformed: never a lucky guess
    response = client.post(VERIFY, {"code": totp_code(device)})
    assert response.status_code == 429
    assert client.get("/my/").status_code == 302
    assert AccessAttempt.objects.filter(username=user.username).exists()


def test_login_link_does_not_skip_the_second_step(client):
    from accounts.services import access
    from accounts.services.audit import Actor

    user = CustomerFactory()
    totp_device(user)
    link = access.sign_in_link_create(actor=Actor(), user=user, base_url="http://testserver")
    client.post(link.url)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/my/")["Location"].startswith(VERIFY)


def test_second_step_comes_before_the_forced_password_change(client):
    user = CustomerFactory()
    device = totp_device(user)
    user.profile.must_change_password = True
    user.profile.save()
    client.force_login(user)
    assert client.get("/my/")["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": totp_code(device)})
    assert client.get("/my/")["Location"] == reverse("password_change")


def test_passkey_sign_in_endpoints_stay_open_at_the_second_step(client):
    user = CustomerFactory()
    passkey(user)
    client.force_login(user)
    response = client.post(
        reverse("otp_webauthn:credential-authentication-begin"), content_type="application/json"
    )
    assert response.status_code == 200
    assert "challenge" in response.json()


def test_login_page_offers_passwordless_passkey_sign_in(client):
    html = client.get(LOGIN).content.decode()
    assert 'id="passkey-verification-placeholder"' in html
    assert "django_otp_webauthn/otp_webauthn_auth.js" in html
    assert "<script>" not in html  # CSP: no inline script without a nonce


# --- managing one's own devices ---------------------------------------------------------------


def test_a_customer_cannot_remove_anothers_passkey(client):
    owner, other = CustomerFactory(), CustomerFactory()
    theirs = passkey(owner, name="Owner-key-7")
    verified_login(client, other)
    response = client.post(reverse("mfa_passkey_remove", args=[theirs.pk]))
    assert response.status_code == 404
    assert WebAuthnCredential.objects.filter(pk=theirs.pk).exists()
    assert "Owner-key-7" not in client.get(MFA).content.decode()


def test_own_passkey_is_listed_and_removed(client):
    user = CustomerFactory()
    mine = passkey(user, name="Laptop")
    verified_login(client, user, device=mine)
    assert "Laptop" in client.get(MFA).content.decode()
    client.post(reverse("mfa_passkey_remove", args=[mine.pk]))
    assert not WebAuthnCredential.objects.filter(pk=mine.pk).exists()
    assert AuditLog.objects.filter(action="mfa.passkey.remove").exists()


# --- passkey names -------------------------------------------------------------------------


def _rename(client, key, name):
    return client.post(
        reverse("mfa_passkey_rename", args=[key.pk]), {f"passkey-{key.pk}-name": name}
    )


def test_a_new_passkey_is_named_after_the_browser_that_made_it():
    user = CustomerFactory()
    mine = passkey(user, name="")
    agent = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36"
    )
    with translation.override("en"):
        mfa.passkey_added(user=user, passkey_id=mine.pk, user_agent=agent, actor=Actor(user))
    mine.refresh_from_db()
    assert mine.name == "Chrome on Android"
    row = AuditLog.objects.get(action="mfa.passkey.add")
    assert row.detail == {"user": user.username, "passkey": mine.pk, "name": "Chrome on Android"}


def test_a_passkey_is_renamed_trimmed_and_audited(client):
    user = CustomerFactory()
    mine = passkey(user, name="Chrome on Android")
    verified_login(client, user, device=mine)
    page = client.get(MFA).content.decode()
    assert f'action="/accounts/profile/two-factor/passkeys/{mine.pk}/rename/"' in page
    assert f'<label for="id_passkey-{mine.pk}-name">Passkey name</label>' in page
    response = _rename(client, mine, "  Work phone  ")
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Work phone"
    row = AuditLog.objects.get(action="mfa.passkey.rename")
    assert row.user == user
    assert row.detail == {
        "user": user.username,
        "passkey": mine.pk,
        "name": ["Chrome on Android", "Work phone"],
    }
    page = client.get(MFA).content.decode()
    assert "The passkey is now called “Work phone”." in page
    assert "<strong>Work phone</strong>" in page


@pytest.mark.parametrize(
    ("name", "error"),
    [("   ", "Enter a name for the passkey."), ("x" * 65, "A name is at most 64 characters.")],
)
def test_a_blank_or_too_long_name_is_a_field_error_and_changes_nothing(client, name, error):
    user = CustomerFactory()
    mine = passkey(user, name="Laptop")
    verified_login(client, user, device=mine)
    response = _rename(client, mine, name)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<ul class="field-error" id="id_passkey-{mine.pk}-name_error"><li>{error}</li>' in html
    assert '<details class="mfa-rename" open>' in html
    mine.refresh_from_db()
    assert mine.name == "Laptop"
    assert not AuditLog.objects.filter(action="mfa.passkey.rename").exists()


def test_a_customer_cannot_rename_anothers_passkey(client):
    owner, other = CustomerFactory(), CustomerFactory()
    theirs = passkey(owner, name="Owner-key-7")
    verified_login(client, other)
    assert _rename(client, theirs, "Mine now").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Owner-key-7"
    assert not AuditLog.objects.filter(action="mfa.passkey.rename").exists()


def test_renaming_needs_a_post_with_the_csrf_token(client):
    user = CustomerFactory()
    mine = passkey(user, name="Laptop")
    verified_login(client, user, device=mine)
    assert client.get(reverse("mfa_passkey_rename", args=[mine.pk])).status_code == 405
    guarded = Client(enforce_csrf_checks=True)
    verified_login(guarded, user, device=mine)
    assert _rename(guarded, mine, "Work phone").status_code == 403
    mine.refresh_from_db()
    assert mine.name == "Laptop"


def test_a_first_passkey_gets_recovery_codes_shown_once(client):
    user = CustomerFactory()
    mine = passkey(user)
    verified_login(client, user, device=mine)
    first = client.get(MFA).content.decode()
    assert 'id="recovery-codes"' in first
    assert 'id="recovery-codes"' not in client.get(MFA).content.decode()


def test_required_role_cannot_remove_its_last_factor(client, mfa_required):
    user = ResellerFactory()
    device = totp_device(user)
    verified_login(client, user, device)
    response = client.post(reverse("mfa_totp_remove"), follow=True)
    assert "add a passkey before removing" in response.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_customer_removes_the_app_and_its_recovery_codes(client):
    user = CustomerFactory()
    device = totp_device(user)
    recovery_codes(user)
    verified_login(client, user, device)
    client.post(reverse("mfa_totp_remove"))
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    assert client.get("/my/").status_code == 200


def test_regenerating_recovery_codes_replaces_the_old_ones(client):
    user = CustomerFactory()
    device = totp_device(user)
    old = recovery_codes(user)
    verified_login(client, user, device)
    response = client.post(reverse("mfa_recovery_regenerate"))
    new = re.findall(r"<li><code>([a-z0-9]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert not StaticToken.objects.filter(token__in=old).exists()


# --- admin ------------------------------------------------------------------------------------


def test_admin_is_behind_the_same_second_factor(client):
    staff = StaffFactory(is_superuser=True)
    totp_device(staff)
    client.force_login(staff)
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    request = RequestFactory().get("/admin/")
    request.user = staff
    request.user.is_verified = lambda: False
    assert not admin.site.has_permission(request)


def test_admin_login_page_is_the_portal_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_staff_reset_removes_every_factor_and_is_audited(client):
    staff = StaffFactory(is_superuser=True)
    verified_login(client, staff)
    user = ResellerFactory()
    totp_device(user)
    passkey(user)
    recovery_codes(user)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "mfa_reset", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    entry = AuditLog.objects.get(action="admin.mfa.reset")
    assert entry.user == staff and entry.detail["user"] == user.username
    assert entry.detail["devices"] == 3


def test_removing_the_passkey_the_session_passed_with_keeps_it_signed_in(client, mfa_required):
    user = ResellerFactory()
    mine = passkey(user)
    totp_device(user)
    verified_login(client, user, device=mine)
    response = client.post(reverse("mfa_passkey_remove", args=[mine.pk]))
    assert response["Location"] == reverse("mfa")
    assert client.get("/reseller/").status_code == 200  # not sent back to the code step


def test_removing_the_app_the_session_passed_with_keeps_it_signed_in(client, mfa_required):
    user = ResellerFactory()
    passkey(user)
    device = totp_device(user)
    verified_login(client, user, device=device)
    client.post(reverse("mfa_totp_remove"))
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get("/reseller/").status_code == 200


def test_moving_the_app_to_a_new_phone_keeps_the_session_signed_in(client, mfa_required):
    user = ResellerFactory()
    old = totp_device(user)
    recovery_codes(user)
    verified_login(client, user, device=old)
    client.get(TOTP_ADD)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(TOTP_ADD, {"code": totp_code(new)})
    assert response["Location"] == reverse("mfa")
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert client.get("/reseller/").status_code == 200
