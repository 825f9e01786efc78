"""The call history shows the name the customer saved for a number in their phone book."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from tests.telephony.factories import CdrFactory

pytest_plugins = ["tests.portal.fixtures"]
CALLS = reverse("customer:calls")


def _call_to(account, number: str):
    return CdrFactory(
        server=account.server, account=account.account, callee_e164=number, start=timezone.now()
    )


def test_a_number_saved_in_the_phone_book_shows_its_name(emu_client, emu_account, vos_emulator):
    _call_to(emu_account, "8613912345678")  # "Li Lei" in 1001's phone book on the switch
    _call_to(emu_account, "8613700000000")  # not in it
    html = emu_client.get(CALLS).content.decode()
    assert '<span class="small saved-name">Li Lei</span>' in html
    assert html.count('class="small saved-name"') == 1
    # Read once, then from the cache: the next page view does not ask the switch again.
    asked = vos_emulator.calls["GetCustomerPhoneBook"]
    emu_client.get(CALLS)
    assert vos_emulator.calls["GetCustomerPhoneBook"] == asked


def test_a_phone_book_change_made_here_shows_at_once(emu_client, emu_account, vos_emulator):
    _call_to(emu_account, "8613700000000")
    assert "saved-name" not in emu_client.get(CALLS).content.decode()
    response = emu_client.post(
        reverse("customer:phonebook_add"), {"e164": "+86 137 0000 0000", "name": "New friend"}
    )
    assert response.status_code == 302
    assert (
        '<span class="small saved-name">New friend</span>' in emu_client.get(CALLS).content.decode()
    )


def test_the_history_shows_without_names_when_the_switch_does_not_answer(
    emu_client, emu_account, vos_emulator
):
    _call_to(emu_account, "8613912345678")
    vos_emulator.faults.update({"error_rate": 1.0})
    response = emu_client.get(CALLS)
    assert response.status_code == 200
    assert "8613912345678" in response.content.decode()
    assert "saved-name" not in response.content.decode()
