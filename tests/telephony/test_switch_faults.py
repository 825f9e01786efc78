"""A switch that misbehaves in every way the emulator knows: `sync_vos` ends cleanly naming
the fault, no page answers 5xx, and once the switch is well again one sync heals every page.

Runs on SQLite and, with DATABASE_URL, on PostgreSQL (where an out-of-range value would make
the write itself fail)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from telephony.emulator.faults import GARBAGE_MODES
from telephony.models import SyncState, VosAccount
from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

MODES = [m for m in GARBAGE_MODES if m != "hang"]  # hang: see test_write_budget.py

CUSTOMER_PAGES = [
    "customer:dashboard",
    "customer:calls",
    "customer:calls_csv",
    "customer:payments",
    "customer:statement",
    "customer:phonebook",
    "customer:phonebook_import",
]
RESELLER_PAGES = ["reseller:customers", "reseller:topups", "reseller:customer_create"]
STAFF_PAGES = [
    "staff_status",
    "admin:telephony_vosaccount_changelist",
    "admin:telephony_syncstate_changelist",
    "admin:billing_ledgerentry_changelist",
    "admin:billing_reconciliation",
    "admin:accounts_auditlog_changelist",
    "admin:auth_user_changelist",
]


def sync() -> str:
    """Run every job; the fault text on failure, "" when all went well. Any other exception
    (a traceback) fails the test."""
    try:
        call_command("sync_vos")
    except CommandError as exc:
        return str(exc)
    return ""


@pytest.fixture
def logins(vos_server):
    sync()
    accounts = {a.account: a for a in VosAccount.objects.filter(server=vos_server)}
    customer, reseller, staff = Client(), Client(), Client()
    customer.force_login(CustomerFactory(vos_account=accounts["1001"]))
    reseller.force_login(ResellerFactory(vos_account=accounts["agent01"]))
    staff.force_login(StaffFactory(is_superuser=True))
    return customer, reseller, staff


def page_statuses(customer, reseller, staff) -> dict[str, int]:
    statuses = {}
    for client, names in ((customer, CUSTOMER_PAGES), (reseller, RESELLER_PAGES)):
        for name in names:
            statuses[name] = client.get(reverse(name)).status_code
    detail = reverse("reseller:customer_detail", kwargs={"account": "1001"})
    statuses["reseller:customer_detail"] = reseller.get(detail).status_code
    for name in STAFF_PAGES:
        statuses[name] = staff.get(reverse(name)).status_code
    return statuses


def assert_healed(logins):
    assert sync() == ""
    statuses = page_statuses(*logins)
    assert {name: s for name, s in statuses.items() if s != 200} == {}


@pytest.mark.parametrize("mode", MODES)
def test_a_garbage_answering_switch_breaks_no_page_and_one_sync_heals(vos_emulator, logins, mode):
    vos_emulator.faults.update({"garbage_mode": mode})

    fault = sync()

    if fault:
        errors = list(SyncState.objects.exclude(last_error="").values_list("last_error", flat=True))
        assert errors, "a failed sync_vos names its fault in SyncState"
    statuses = page_statuses(*logins)
    assert {name: s for name, s in statuses.items() if s >= 500} == {}

    vos_emulator.faults.update({"garbage_mode": ""})
    assert_healed(logins)


def test_a_switch_answering_errors_breaks_no_page(vos_emulator, logins):
    vos_emulator.faults.error_rate = 1.0
    assert "failed" in sync()
    assert SyncState.objects.filter(last_error__startswith="VosUnavailable").exists()
    assert {n: s for n, s in page_statuses(*logins).items() if s >= 500} == {}
    vos_emulator.faults.error_rate = 0.0
    assert_healed(logins)


def test_one_account_with_an_absurd_balance_is_skipped_and_the_rest_stored(
    vos_emulator, logins, caplog
):
    vos_emulator.state.customers["1002"]["money"] = Decimal("12345678901234567890")
    vos_emulator.state.customers["1001"]["money"] = Decimal("77.5")

    call_command("sync_vos", "--only", "balances")

    assert VosAccount.objects.get(account="1001").balance == Decimal("77.5")
    stored = VosAccount.objects.get(account="1002").balance
    assert stored is None or abs(stored) < Decimal(10) ** 14
    assert "1002" in caplog.text
    assert {n: s for n, s in page_statuses(*logins).items() if s >= 500} == {}
