"""Activation of a customer login by phone number + VOS web-query password (demo emulator)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Profile, Role
from telephony.models import VosAccount
from tests.accounts.factories import CustomerFactory
from tests.telephony.factories import VosServerFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/activate/"
PHONE = "8613800001001"  # a phone of demo account 1001
WEB_PASSWORD = "web1001"
NEW_PASSWORD = "Silver-Kettle-5150"
REFUSED = "That number and password do not match our records."


def _activate(client, phone=PHONE, web_password=WEB_PASSWORD, ip="203.0.113.20", **extra):
    data = {
        "phone": phone,
        "web_password": web_password,
        "username": "",
        "email": "owner@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **extra,
    }
    return client.post(URL, data, REMOTE_ADDR=ip)


def test_the_right_web_password_creates_a_customer_login_on_that_account(client, vos_server):
    response = _activate(client, phone="+86 138 0000 1001")
    assert response.status_code == 302
    user = get_user_model().objects.get(username="1001")
    assert user.check_password(NEW_PASSWORD) and user.email == "owner@example.com"
    assert user.profile.role == Role.CUSTOMER
    account = user.profile.vos_account
    assert (account.server, account.account) == (vos_server, "1001")
    # The mirror row was filled from VOS at once.
    assert account.balance_as_of is not None and account.name
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_chosen_username_is_used(client, vos_server):
    assert _activate(client, username="wei").status_code == 302
    assert get_user_model().objects.get(username="wei").profile.vos_account.account == "1001"


def test_a_wrong_password_and_an_unknown_number_get_the_same_answer(client, vos_server):
    wrong = _activate(client, web_password="web9999")
    unknown = _activate(client, phone="8613800009999")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert REFUSED in response.content.decode()
    assert not get_user_model().objects.exists()


def test_an_invalid_form_sends_nothing_to_vos(client, vos_server, vos_emulator):
    before = vos_emulator.calls["GetPhone"]
    response = _activate(client, password2="something else")
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert vos_emulator.calls["GetPhone"] == before


def test_attempts_are_throttled_per_number(client, vos_server):
    for n in range(5):
        _activate(client, web_password=f"guess{n}", ip=f"203.0.113.{100 + n}")
    response = _activate(client, ip="198.51.100.1")
    assert "Too many attempts" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_attempts_are_throttled_per_address(client, vos_server):
    for n in range(5):
        _activate(client, phone=f"86138000090{n:02d}", ip="203.0.113.77")
    response = _activate(client, ip="203.0.113.77")
    assert "Too many attempts" in response.content.decode()
    assert _activate(client, ip="198.51.100.2").status_code == 302


def test_an_account_with_a_login_is_not_activated_twice(client, vos_server):
    account = VosAccount.objects.create(server=vos_server, account="1001")
    CustomerFactory(vos_account=account, username="already")
    response = _activate(client, username="other")
    assert response.status_code == 200
    assert "already has a portal login" in response.content.decode()
    assert Profile.objects.filter(vos_account=account).count() == 1


def test_vos_down_shows_a_notice_and_counts_no_attempt(client, db):
    VosServerFactory()  # a closed port
    for _ in range(6):
        response = _activate(client)
        assert response.status_code == 200
        assert "cannot check your number right now" in response.content.decode()
    assert "Too many attempts" not in response.content.decode()


def test_vos_answering_errors_shows_a_notice(client, vos_server, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    response = _activate(client)
    assert response.status_code == 200
    assert "cannot check your number right now" in response.content.decode()


def test_with_several_servers_each_enabled_one_is_tried(client, vos_server):
    VosServerFactory(name="aaa-down")  # unreachable, tried first
    VosServerFactory(name="zzz-off", enabled=False)
    page = client.get(URL)
    choices = page.context["form"].fields["server"].queryset
    assert {server.name for server in choices} == {"aaa-down", vos_server.name}
    response = _activate(client)
    assert response.status_code == 302
    assert get_user_model().objects.get(username="1001").profile.vos_account.server == vos_server


def test_the_operator_can_be_picked(client, vos_server):
    down = VosServerFactory(name="aaa-down")
    response = _activate(client, server=down.pk)
    assert "cannot check your number right now" in response.content.decode()
    assert _activate(client, server=vos_server.pk).status_code == 302


def test_no_server_configured_is_a_notice_not_a_refusal(client, db):
    response = _activate(client)
    assert response.status_code == 200
    assert "cannot check your number right now" in response.content.decode()


def test_the_language_of_the_page_becomes_the_profile_language(client, vos_server):
    client.cookies["django_language"] = "zh-hans"
    assert _activate(client).status_code == 302
    assert get_user_model().objects.get(username="1001").profile.language == "zh-hans"
