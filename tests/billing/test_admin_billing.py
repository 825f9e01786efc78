"""Staff admin of money: the read-only ledger and audit log, "reconcile now", the report."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry, PayRecord
from billing.services import topups
from telephony.models import SyncState
from tests.accounts.factories import StaffFactory
from tests.billing.factories import LedgerEntryFactory, demo_world


@pytest.fixture
def staff_client(client, db):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_ledger_changelist_is_read_only_and_cheap(staff_client, django_assert_max_num_queries):
    server = LedgerEntryFactory().server
    LedgerEntryFactory.create_batch(30, server=server)
    url = reverse("admin:billing_ledgerentry_changelist")
    with django_assert_max_num_queries(14):
        response = staff_client.get(url, {"state": "applied"})
    assert response.status_code == 200
    assert reverse("admin:billing_reconciliation") in response.content.decode()
    entry = LedgerEntry.objects.first()
    detail = staff_client.get(reverse("admin:billing_ledgerentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert staff_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:billing_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 403


def test_ledger_filters_by_reseller_and_day(staff_client, vos_server, vos_client):
    world = demo_world(vos_server, vos_client)
    LedgerEntryFactory(server=world.server, reseller_account="agent01")
    LedgerEntryFactory(server=world.server, reseller_account="agent02", account="2001")
    today = timezone.localdate()
    response = staff_client.get(
        reverse("admin:billing_ledgerentry_changelist"),
        {
            "reseller": "agent01",
            "created_at__day": today.day,
            "created_at__month": today.month,
            "created_at__year": today.year,
        },
    )
    assert response.status_code == 200
    assert [e.reseller_account for e in response.context["cl"].result_list] == ["agent01"]


def test_audit_log_is_read_only(staff_client):
    AuditLog.objects.create(action="customer.lock", outcome="ok", account="1001")
    url = reverse("admin:accounts_auditlog_changelist")
    assert staff_client.get(url, {"q": "1001"}).status_code == 200
    assert staff_client.get(reverse("admin:accounts_auditlog_add")).status_code == 403


def test_reconcile_now_action_settles_selected_unknown_rows(
    staff_client, vos_server, vos_client, vos_emulator
):
    world = demo_world(vos_server, vos_client)
    vos_emulator.faults.drop_after_pay_rate = 1.0
    vos_emulator.faults.error_rate = 1.0  # answers lost and pay history unreadable
    entry = topups.topup_submit(
        actor=Actor(user=world.reseller, ip=None),
        agent=reseller_agent(world.reseller),
        movement=topups.TopupRequest(
            customer=world.account("1001"),
            amount=Decimal("3"),
            deduct=False,
            memo="",
            idempotency_key=str(uuid.uuid4()),
        ),
    )
    assert entry.state == LedgerEntry.State.UNKNOWN
    vos_emulator.faults.error_rate = 0.0

    response = staff_client.post(
        reverse("admin:billing_ledgerentry_changelist"),
        {"action": "reconcile_now", "_selected_action": [entry.pk]},
        follow=True,
    )

    assert response.status_code == 200
    entry.refresh_from_db()
    # error_rate made that Pay an HTTP 500: VOS did nothing, the window is still open.
    assert entry.state == LedgerEntry.State.UNKNOWN
    LedgerEntry.objects.filter(pk=entry.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    staff_client.post(
        reverse("admin:billing_ledgerentry_changelist"),
        {"action": "reconcile_now", "_selected_action": [entry.pk]},
    )
    entry.refresh_from_db()
    assert entry.state == LedgerEntry.State.FAILED
    assert vos_emulator.calls["Pay"] == 1
    assert AuditLog.objects.filter(action="ledger.reconcile_now").count() == 2


def test_reconciliation_report_lists_mismatches(staff_client, vos_server):
    now = timezone.now()
    ok = LedgerEntryFactory(server=vos_server, account="1001", amount=Decimal("10"))
    missing = LedgerEntryFactory(server=vos_server, account="1002", amount=Decimal("5"))
    PayRecord.objects.create(
        server=vos_server,
        natural_key="a",
        account="1001",
        amount=Decimal("10"),
        paid_at=now,
        memo=f"portal#{ok.pk}",
    )
    PayRecord.objects.create(
        server=vos_server,
        natural_key="b",
        account="1003",
        amount=Decimal("7"),
        paid_at=now,
        memo="portal#999999",
    )
    # The periodic sync has read the pay history past these rows: a missing record is a mismatch.
    SyncState.objects.create(
        server=vos_server,
        job=SyncState.Job.PAYMENTS,
        cursor={"through": (now + timedelta(minutes=10)).isoformat()},
    )

    response = staff_client.get(reverse("admin:billing_reconciliation"), {"mismatches": "1"})

    assert response.status_code == 200
    rows = {row.account: row for row in response.context["rows"]}
    assert set(rows) == {"1002", "1003"}
    assert any(f"#{missing.pk}" in p for p in rows["1002"].problems)
    assert any("portal#999999" in p for p in rows["1003"].problems)


def test_reconciliation_report_fetches_pay_history_on_demand(
    staff_client, vos_server, vos_client, vos_emulator
):
    world = demo_world(vos_server, vos_client)
    entry = topups.topup_submit(
        actor=Actor(user=world.reseller, ip=None),
        agent=reseller_agent(world.reseller),
        movement=topups.TopupRequest(
            customer=world.account("1001"),
            amount=Decimal("4"),
            deduct=False,
            memo="",
            idempotency_key=str(uuid.uuid4()),
        ),
    )
    url = reverse("admin:billing_reconciliation")
    # Applied, not yet in the mirror, and the mirror has not looked: awaiting, not a mismatch.
    assert staff_client.get(url, {"mismatches": "1"}).context["rows"] == []
    [before] = staff_client.get(url).context["rows"]
    assert before.awaiting_count == 1 and before.vos_count == 0

    staff_client.post(url, {"fetch": "1", "mismatches": "1"})
    [after] = staff_client.get(url).context["rows"]
    assert after.ok and after.awaiting_count == 0 and after.vos_count == 1
    assert PayRecord.objects.filter(memo__startswith=f"portal#{entry.pk}").exists()


def test_reconciliation_report_is_staff_only(client, vos_server, vos_client):
    world = demo_world(vos_server, vos_client)
    client.force_login(world.reseller)
    response = client.get(reverse("admin:billing_reconciliation"))
    assert response.status_code == 302  # to the admin login
