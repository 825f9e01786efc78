"""My phones against the emulator over HTTP: live view and fallback, SIP password, caps,
calls in progress (cached), scope."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import AuditLog, SpendingCeiling
from telephony.models import Phone
from tests.billing.factories import demo_world

STRONG = "Blue-Kite-2049"


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def customer_client(client, world):
    client.force_login(world.customer)
    return client


def password_url(e164="8613800001001"):
    return reverse("customer:phone_password", args=[e164])


def cap_url(e164="8613800001001"):
    return reverse("customer:phone_cap", args=[e164])


# --- the list --------------------------------------------------------------------------------


def test_phones_are_read_live_with_their_registration(customer_client, vos_emulator):
    response = customer_client.get(reverse("customer:phones"))
    view = response.context["view"]
    assert view.live
    assert [p.e164 for p in view.phones] == ["8613800001001", "8613900001001"]
    first = view.phones[0]
    assert first.online and first.remote_ip and first.device
    assert vos_emulator.calls["GetPhoneOnline"] == 1
    assert "Registered now" in response.content.decode()


def test_a_hanging_switch_shows_the_mirror_within_the_page_budget(
    customer_client, world, vos_emulator, settings
):
    settings.VOS_PAGE_TIMEOUT = 0.5
    Phone.objects.create(
        server=world.server, e164="8613800001001", account="1001", online=True, remote_ip="x"
    )
    vos_emulator.faults.update({"garbage_mode": "hang", "garbage_interfaces": "GetPhone"})
    started = time.monotonic()
    response = customer_client.get(reverse("customer:phones"))
    assert time.monotonic() - started < 2
    view = response.context["view"]
    assert not view.live
    assert [p.e164 for p in view.phones] == ["8613800001001"]
    assert "this is what we last knew" in response.content.decode()


# --- SIP password ------------------------------------------------------------------------------


def test_a_strong_password_typed_twice_is_set_shown_once_and_audited(customer_client, vos_emulator):
    response = customer_client.post(password_url(), {"password": STRONG, "password2": STRONG})
    assert response.status_code == 200
    assert STRONG in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert vos_emulator.state.phones["8613800001001"]["password"] == STRONG
    log = AuditLog.objects.get(action="phone.sip_password")
    assert log.outcome == "ok" and STRONG not in str(log.detail)
    assert STRONG not in customer_client.get(reverse("customer:phones")).content.decode()


@pytest.mark.parametrize(
    ("password", "password2", "field", "message"),
    [
        ("Short-1a", "Short-1a", "password", "10 to 32"),
        ("a" * 33, "a" * 33, "password", "10 to 32"),
        ("alllowercase", "alllowercase", "password", "three of"),
        ("Blue Kite 2049", "Blue Kite 2049", "password", "no spaces"),
        ("Blué-Kite-2049", "Blué-Kite-2049", "password", "no spaces"),
        ("Ab1-800001001", "Ab1-800001001", "password", "phone number"),
        ("Ab1-1001-xyzw", "Ab1-1001-xyzw", "password", "account"),
        ("Aa1!Aa1!Aa1!", "Aa1!Aa1!Aa1!", "password", "repeated"),
        (STRONG, STRONG + "x", "password2", "differ"),
    ],
)
def test_weak_or_mistyped_passwords_are_refused_and_nothing_is_sent(
    customer_client, vos_emulator, password, password2, field, message
):
    response = customer_client.post(password_url(), {"password": password, "password2": password2})
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert vos_emulator.calls["ModifyPhone"] == 0


# --- monthly cap -----------------------------------------------------------------------------


def test_a_cap_within_the_ceiling_is_set_on_the_switch(customer_client, world, vos_emulator):
    SpendingCeiling.objects.create(server=world.server, account="1001", ceiling=Decimal("80"))
    response = customer_client.post(cap_url(), {"cap": "30"})
    assert response.status_code == 302
    assert vos_emulator.state.phones["8613800001001"]["monthlyMoneyMaximum"] == Decimal("30")
    assert AuditLog.objects.filter(action="phone.cap", outcome="ok").exists()


@pytest.mark.parametrize(
    ("cap", "message"),
    [
        ("81", "most you may set"),
        ("0", "greater than zero"),
        ("-5", "greater than zero"),
        ("abc", "Enter an amount"),
        ("1e3", "Enter an amount"),
        ("NaN", "Enter an amount"),
        ("10.005", "2 decimal places"),
    ],
)
def test_bad_or_over_ceiling_caps_are_refused_and_nothing_is_sent(
    customer_client, world, vos_emulator, cap, message
):
    SpendingCeiling.objects.create(server=world.server, account="1001", ceiling=Decimal("80"))
    response = customer_client.post(cap_url(), {"cap": cap})
    assert message in " ".join(response.context["form"].errors.get("cap", []))
    assert vos_emulator.calls["ModifyPhone"] == 0


def test_without_a_ceiling_the_default_applies(customer_client, vos_emulator, settings):
    settings.PHONE_CAP_DEFAULT_CEILING = Decimal("50")
    response = customer_client.post(cap_url(), {"cap": "51"})
    assert "most you may set" in " ".join(response.context["form"].errors["cap"])


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("e164", ["8613800001002", "8613800002001", "999"])
def test_another_accounts_phone_is_a_404_and_nothing_is_sent(customer_client, vos_emulator, e164):
    for url in (password_url(e164), cap_url(e164)):
        assert customer_client.get(url).status_code == 404
        assert (
            customer_client.post(
                url, {"password": STRONG, "password2": STRONG, "cap": "5"}
            ).status_code
            == 404
        )
    assert vos_emulator.calls["ModifyPhone"] == 0


def test_a_reseller_cannot_use_the_customer_phone_pages(client, world):
    client.force_login(world.reseller)
    assert client.get(reverse("customer:phones")).status_code == 404
    assert client.get(password_url()).status_code == 404


# --- on a call now ---------------------------------------------------------------------------


def test_the_dashboard_shows_calls_in_progress_read_at_most_every_30_seconds(
    client, world, vos_emulator
):
    from accounts.models import Profile
    from tests.accounts.factories import CustomerFactory

    acme = CustomerFactory(username="acme", vos_account=world.account("1004"))
    Profile.objects.filter(user=acme).update(vos_account=world.account("1004"))
    client.force_login(acme)
    html = client.get(reverse("customer:dashboard")).content.decode()
    assert "On a call now" in html and "447700900456" in html
    client.get(reverse("customer:dashboard"))
    assert vos_emulator.calls["GetCurrentCall"] == 1
    cache.clear()
    client.get(reverse("customer:dashboard"))
    assert vos_emulator.calls["GetCurrentCall"] == 2


def test_no_calls_no_section_and_a_garbled_answer_is_no_500(customer_client, vos_emulator):
    with vos_emulator.state.lock:
        vos_emulator.state.current_calls.clear()
    assert (
        "On a call now" not in customer_client.get(reverse("customer:dashboard")).content.decode()
    )
    cache.clear()
    vos_emulator.faults.update({"garbage_mode": "huge", "garbage_interfaces": "GetCurrentCall"})
    from telephony.emulator.demo_data import current_call

    with vos_emulator.state.lock:
        now = vos_emulator.state.now_ms()
        vos_emulator.state.current_calls.append(
            current_call("8613800001001", "447700900123", now - 60_000, now + 600_000, 9001)
        )
    response = customer_client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    assert "On a call now" not in response.content.decode()  # absurd durations are dropped
