"""A top-up request waits for the switch no longer than TOPUP_WAIT_SECONDS; the worker
finishes what the request stopped waiting for, without ever paying twice."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import tasks
from billing.models import LedgerEntry
from tests.billing.factories import demo_world


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("500"), cap_per_day=Decimal("600")
    )


def test_a_pay_answered_after_30_s_returns_within_the_wait_and_is_confirmed_once(
    client, world, vos_emulator, settings
):
    settings.TOPUP_WAIT_SECONDS = 2.0
    client.force_login(world.reseller)
    before = vos_emulator.state.balance("1001")
    vos_emulator.faults.update(
        {"garbage_mode": "hang", "garbage_interfaces": "Pay", "hang_seconds": 30}
    )
    data = {
        "account": "1001",
        "direction": "topup",
        "amount": "12.50",
        "memo": "",
        "key": str(uuid.uuid4()),
        "confirm": "1",
    }
    started = time.monotonic()
    response = client.post(reverse("reseller:topup"), data)
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert elapsed < settings.TOPUP_WAIT_SECONDS + 1
    entry = LedgerEntry.objects.get()
    assert entry.state == LedgerEntry.State.UNKNOWN
    receipt = client.get(response["Location"])
    page = receipt.content.decode()
    assert "being confirmed" in page
    assert 'http-equiv="refresh"' in page

    # The worker reconciles from the pay history (the switch applied the Pay at once).
    vos_emulator.faults.update({"garbage_mode": ""})
    tasks.movement_confirm.apply(args=[entry.pk])
    entry.refresh_from_db()
    assert entry.state == LedgerEntry.State.APPLIED
    assert vos_emulator.calls["Pay"] == 1
    assert vos_emulator.state.balance("1001") == before + Decimal("12.50")
    receipt = client.get(response["Location"]).content.decode()
    assert "The switch has confirmed it" in receipt
    assert 'http-equiv="refresh"' not in receipt


def test_a_resubmitted_form_while_being_confirmed_pays_nothing_more(
    client, world, vos_emulator, settings
):
    settings.TOPUP_WAIT_SECONDS = 1.0
    client.force_login(world.reseller)
    vos_emulator.faults.update(
        {"garbage_mode": "hang", "garbage_interfaces": "Pay", "hang_seconds": 30}
    )
    data = {
        "account": "1001",
        "direction": "topup",
        "amount": "5",
        "memo": "",
        "key": str(uuid.uuid4()),
        "confirm": "1",
    }
    first = client.post(reverse("reseller:topup"), data)
    again = client.post(reverse("reseller:topup"), data)
    assert again["Location"] == first["Location"]
    assert vos_emulator.calls["Pay"] == 1
