"""The reseller's side of phones against the emulator: add/remove numbers with confirmation,
the cap ceiling, scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog, SpendingCeiling
from tests.billing.factories import demo_world


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def reseller_client(client, world):
    client.force_login(world.reseller)
    return client


def phones_url(account="1002"):
    return reverse("reseller:customer_phones", args=[account])


def test_adding_a_number_needs_confirmation_and_shows_its_sip_password_once(
    reseller_client, vos_emulator
):
    review = reseller_client.post(phones_url(), {"e164": "+86 138 0000 9999"})
    assert "reseller/phone_add_confirm.html" in [t.name for t in review.templates]
    assert vos_emulator.calls["CreatePhone"] == 0
    done = reseller_client.post(phones_url(), {"e164": "8613800009999", "confirm": "1"})
    assert "no-store" in done["Cache-Control"]
    phone = vos_emulator.state.phones["8613800009999"]
    assert phone["account"] == "1002"
    assert phone["password"] and phone["password"] in done.content.decode()
    assert AuditLog.objects.filter(action="phone.create", outcome="ok").exists()
    assert phone["password"] not in reseller_client.get(phones_url()).content.decode()


@pytest.mark.parametrize(
    ("e164", "message"),
    [("12ab", "5 to 32 digits"), ("123", "5 to 32 digits"), ("8613800001001", "already exists")],
)
def test_bad_or_taken_numbers_are_a_field_error(reseller_client, vos_emulator, e164, message):
    response = reseller_client.post(phones_url(), {"e164": e164, "confirm": "1"})
    assert message in " ".join(response.context["form"].errors["e164"])
    assert vos_emulator.state.phones["8613800001001"]["account"] == "1001"


def test_removing_a_number_needs_confirmation(reseller_client, vos_emulator):
    url = reverse("reseller:customer_phone_remove", args=["1001", "8613900001001"])
    assert reseller_client.get(url).status_code == 200
    assert "8613900001001" in vos_emulator.state.phones
    response = reseller_client.post(url)
    assert response.status_code == 302
    assert "8613900001001" not in vos_emulator.state.phones
    assert AuditLog.objects.filter(action="phone.delete", outcome="ok").exists()


def test_a_number_of_another_customer_cannot_be_removed_through_this_one(
    reseller_client, vos_emulator
):
    url = reverse("reseller:customer_phone_remove", args=["1002", "8613800001001"])
    response = reseller_client.post(url)
    assert "not one of yours" in response.content.decode()
    assert "8613800001001" in vos_emulator.state.phones
    assert vos_emulator.calls["DeletePhone"] == 0


@pytest.mark.parametrize("account", ["2001", "agent01", "nobody"])
def test_another_resellers_customer_is_a_404_everywhere(reseller_client, vos_emulator, account):
    for url in (
        phones_url(account),
        reverse("reseller:customer_phone_remove", args=[account, "8613800002001"]),
        reverse("reseller:customer_cap_ceiling", args=[account]),
    ):
        assert reseller_client.get(url).status_code == 404
        assert (
            reseller_client.post(
                url, {"e164": "8613800007777", "confirm": "1", "cap": "9"}
            ).status_code
            == 404
        )
    assert vos_emulator.calls["CreatePhone"] == vos_emulator.calls["DeletePhone"] == 0
    assert not SpendingCeiling.objects.exists()


def test_the_ceiling_is_set_and_bounds_the_customers_caps(reseller_client, client, world):
    url = reverse("reseller:customer_cap_ceiling", args=["1001"])
    assert reseller_client.post(url, {"cap": "abc"}).status_code == 200
    assert reseller_client.post(url, {"cap": "0"}).status_code == 200
    assert not SpendingCeiling.objects.exists()
    assert reseller_client.post(url, {"cap": "40"}).status_code == 302
    assert SpendingCeiling.objects.get().ceiling == Decimal("40")
    client.force_login(world.customer)
    response = client.post(reverse("customer:phone_cap", args=["8613800001001"]), {"cap": "41"})
    assert "most you may set" in " ".join(response.context["form"].errors["cap"])
