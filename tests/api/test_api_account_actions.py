"""Password, password check, log in by URL, invitation and the phone book through the API."""

from __future__ import annotations

from django.core import mail
from django.test import Client

from accounts.models import AuditLog, Invitation


def test_setting_a_password_lets_the_customer_log_in_with_it(reseller_api, world):
    response = reseller_api.post(
        "/customers/1001/password", {"password": "brand new passphrase 42"}
    )
    assert response.status_code == 200, response.json()
    world.customer.refresh_from_db()
    assert world.customer.check_password("brand new passphrase 42")
    assert AuditLog.objects.filter(action="password.set", account="1001").exists()


def test_a_weak_password_is_422_naming_the_field(reseller_api):
    response = reseller_api.post("/customers/1001/password", {"password": "123"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


def test_password_check_says_valid_or_not_and_is_throttled_like_a_login(reseller_api, settings):
    from tests.accounts.factories import PASSWORD

    assert reseller_api.post("/customers/1001/password/check", {"password": PASSWORD}).json() == {
        "valid": True
    }
    for _ in range(settings.AXES_FAILURE_LIMIT):
        body = reseller_api.post("/customers/1001/password/check", {"password": "wrong"}).json()
        assert body == {"valid": False}
    response = reseller_api.post("/customers/1001/password/check", {"password": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"]


def test_a_customer_without_a_login_is_refused(reseller_api):
    response = reseller_api.post("/customers/1002/password", {"password": "brand new passphrase"})
    assert response.status_code == 422


def test_a_login_link_logs_the_customer_in_once(reseller_api, world):
    response = reseller_api.post("/customers/1001/login-link")
    assert response.status_code == 201
    url = response.json()["url"]
    browser = Client()
    # The link opens a page with a "Sign in" button (a link preview must not use it up).
    assert browser.get(url).status_code == 200
    assert "_auth_user_id" not in browser.session
    assert browser.post(url).status_code == 302
    assert int(browser.session["_auth_user_id"]) == world.customer.pk
    second = Client()
    second.post(url)
    assert "_auth_user_id" not in second.session
    assert AuditLog.objects.filter(action="login.link_use").count() == 1


def test_an_invitation_is_e_mailed(reseller_api, django_capture_on_commit_callbacks, celery_eager):
    with django_capture_on_commit_callbacks(execute=True):
        response = reseller_api.post("/customers/1002/invitation", {"email": "new@example.com"})
    assert response.status_code == 201, response.json()
    assert Invitation.objects.filter(email="new@example.com").exists()
    assert mail.outbox and mail.outbox[0].to == ["new@example.com"]


def test_the_customer_manages_their_phone_book(customer_api, vos_emulator):
    response = customer_api.post(
        "/me/phonebook", {"e164": "8613911112222", "name": "Li", "short_e164s": ["12"]}
    )
    assert response.status_code == 201, response.json()
    entries = customer_api.get("/me/phonebook").json()
    assert any(e["e164"] == "8613911112222" and e["short_e164s"] == ["12"] for e in entries)
    changed = customer_api.put(
        "/me/phonebook/8613911112222", {"e164": "8613911112222", "name": "Wang"}
    )
    assert changed.json()["name"] == "Wang"
    assert customer_api.get("/me/phonebook/8613911112222").json()["name"] == "Wang"
    assert customer_api.delete("/me/phonebook/8613911112222").status_code == 200
    assert customer_api.get("/me/phonebook/8613911112222").status_code == 404


def test_a_bad_phone_book_entry_is_422_with_field_errors(customer_api):
    response = customer_api.post("/me/phonebook", {"e164": "12", "short_e164s": ["1", "1"]})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields & {"e164", "short_e164s"}


def test_a_reseller_key_has_no_phone_book(reseller_api):
    assert reseller_api.get("/me/phonebook").status_code == 403
