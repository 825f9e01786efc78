"""Concurrent submits: the same form twice at once, and many forms racing the daily cap."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry
from billing.services import ledger, topups
from tests.billing.factories import demo_world

pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="needs a database with row locks (PostgreSQL)"
)


def _submit(world, key: str, amount: str):
    close_old_connections()
    try:
        return topups.topup_submit(
            actor=Actor(user=world.reseller, ip=None),
            agent=reseller_agent(world.reseller),
            movement=topups.TopupRequest(
                customer=world.account("1001"),
                amount=Decimal(amount),
                deduct=False,
                memo="",
                idempotency_key=key,
            ),
        )
    except ledger.LedgerError as exc:
        return exc
    finally:
        connection.close()


@pytest.fixture
def world(transactional_db, vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("100"), cap_per_day=Decimal("100")
    )


def test_the_same_form_submitted_eight_times_at_once_pays_once(world, vos_emulator):
    vos_emulator.faults.latency_ms = 50
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _submit(world, key, "10"), range(8)))
    assert len({r.pk for r in results}) == 1
    assert vos_emulator.calls["Pay"] == 1
    assert LedgerEntry.objects.count() == 1


def test_racing_forms_never_exceed_the_daily_cap(world, vos_emulator):
    vos_emulator.faults.latency_ms = 30
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _submit(world, str(uuid.uuid4()), "30"), range(8)))
    accepted = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(accepted) == 3
    assert vos_emulator.calls["Pay"] == 3
