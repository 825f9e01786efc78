"""The same verified notification delivered five times at once, each delivery's credit task
running at once too: one ledger row, one Pay. Needs row locks (PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from billing.models import LedgerEntry, OnlinePayment
from billing.services import online
from tests.billing.factories import demo_world
from tests.billing.online_support import deliver, portal_pays, session_event, start_payment

pytest_plugins = ["tests.billing.online_fixtures"]

pytestmark = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="needs a database with row locks (PostgreSQL)"
)


@pytest.fixture
def world(transactional_db, vos_server, vos_client, stripe_portal):
    return demo_world(vos_server, vos_client)


def _deliver(payload: dict) -> int:
    close_old_connections()
    try:
        return deliver(Client(), payload).status_code
    finally:
        connection.close()


def _credit(payment_id: int) -> int | None:
    close_old_connections()
    try:
        entry = online.online_credit(payment_id=payment_id)
        return entry.pk if entry else None
    finally:
        connection.close()


def test_five_concurrent_deliveries_credit_once(world, client, vos_emulator, run_tasks):
    client.force_login(world.customer)
    before = vos_emulator.state.balance("1001")
    payment = start_payment(client, "25")
    vos_emulator.faults.latency_ms = 50
    payload = session_event(payment)
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(_deliver, [payload] * 5))
    assert answers == [200] * 5
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ONLINE).count() == 1
    assert vos_emulator.calls["Pay"] == 1
    assert vos_emulator.state.balance("1001") == before + 25
    assert OnlinePayment.objects.get(pk=payment.pk).state == OnlinePayment.State.CREDITED


def test_credit_tasks_racing_each_other_insert_one_row_and_pay_once(
    world, client, vos_emulator, run_tasks
):
    client.force_login(world.customer)
    payment = start_payment(client, "25")
    OnlinePayment.objects.filter(pk=payment.pk).update(state=OnlinePayment.State.PAID)
    vos_emulator.faults.latency_ms = 50
    with ThreadPoolExecutor(6) as pool:
        rows = set(pool.map(_credit, [payment.pk] * 6))
    assert len(rows) == 1
    assert len(portal_pays(vos_emulator)) == 1
