"""A fresh top-up on the customer's Payments and in the reconciliation report, within seconds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry, PayHistoryCoverage, PayRecord
from billing.selectors import payments_awaiting
from billing.services import report, topups
from billing.tasks import entry_pay_history
from telephony.models import SyncState
from tests.billing.factories import demo_world
from tests.portal.factories import PayRecordFactory

PAYMENTS = reverse("customer:payments")


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


def topup(world, amount="12.5", memo="WeChat Pay") -> LedgerEntry:
    return topups.topup_submit(
        actor=Actor(user=world.reseller, ip="192.0.2.7"),
        agent=reseller_agent(world.reseller),
        movement=topups.TopupRequest(
            customer=world.account("1001"),
            amount=Decimal(amount),
            deduct=False,
            memo=memo,
            idempotency_key=str(uuid.uuid4()),
        ),
    )


def test_an_applied_pay_queues_a_pay_history_read_after_the_commit(
    world, vos_emulator, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = topup(world)
    assert entry.state == LedgerEntry.State.APPLIED
    record = PayRecord.objects.get(server=world.server, memo__startswith=entry.memo_tag)
    assert record.amount == Decimal("12.5")
    assert PayHistoryCoverage.objects.filter(account="1001").exists()


def test_the_pay_history_task_is_safe_to_run_twice(world, vos_emulator):
    entry = topup(world)
    entry_pay_history.apply(args=(entry.pk,), throw=True)
    entry_pay_history.apply(args=(entry.pk,), throw=True)
    assert PayRecord.objects.filter(memo__startswith=entry.memo_tag).count() == 1


def test_the_pay_history_task_retries_while_the_switch_is_down(world, vos_emulator):
    entry = topup(world)
    vos_emulator.faults.error_rate = 1.0
    before = vos_emulator.calls["GetPayHistory"]
    entry_pay_history.apply(args=(entry.pk,))  # eager: the retries run at once
    assert vos_emulator.calls["GetPayHistory"] - before >= 1 + entry_pay_history.max_retries
    assert not PayRecord.objects.filter(memo__startswith=entry.memo_tag).exists()
    vos_emulator.faults.error_rate = 0.0
    entry_pay_history.apply(args=(entry.pk,), throw=True)
    assert PayRecord.objects.filter(memo__startswith=entry.memo_tag).exists()


def test_payments_shows_an_applied_row_until_the_switchs_record_arrives_never_twice(
    client, world, vos_emulator
):
    entry = topup(world)
    client.force_login(world.customer)
    page = client.get(PAYMENTS)
    assert [e.pk for e in page.context["awaiting"]] == [entry.pk]
    html = page.content.decode()
    assert "Just applied" in html and entry.memo_tag in html and "+USD 12.50" in html

    entry_pay_history.apply(args=(entry.pk,), throw=True)
    page = client.get(PAYMENTS)
    assert page.context["awaiting"] == []
    html = page.content.decode()
    assert "Just applied" not in html
    assert html.count("+USD 12.50") == 1


def test_a_memo_less_record_takes_its_row_off_by_amount_and_balance_after(world, vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    entry = topup(world)
    assert payments_awaiting(world.account("1001")) == [entry]
    entry_pay_history.apply(args=(entry.pk,), throw=True)
    assert payments_awaiting(world.account("1001")) == []


def test_two_look_alike_rows_need_two_records(world, vos_emulator):
    account = world.account("1001")
    entry = topup(world)
    PayRecordFactory(
        server=world.server,
        account="1001",
        amount=entry.amount,
        balance_after=entry.balance_after + 1,
        memo="",
    )
    assert payments_awaiting(account) == [entry]


def test_the_memo_is_shown_and_the_pay_type_is_labelled_as_the_switchs(client, world):
    PayRecordFactory(
        server=world.server, account="1001", amount=Decimal("30"), memo="充值 微信支付", pay_type=0
    )
    PayRecordFactory(
        server=world.server, account="1001", amount=Decimal("5"), memo="portal#77 WeChat Pay"
    )
    client.force_login(world.customer)
    html = client.get(PAYMENTS).content.decode()
    assert "充值 微信支付" in html
    assert "WeChat Pay" in html and "portal#77" in html
    assert "Switch pay type: Cash" in html
    assert "Method" not in html


def test_the_report_does_not_call_a_fresh_topup_a_mismatch(world, vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    entry = topup(world)
    today = timezone.localdate()
    [row] = report.reconciliation_report(first=today, last=today, account="1001")
    assert row.ok and row.awaiting_count == 1

    entry_pay_history.apply(args=(entry.pk,), throw=True)
    [row] = report.reconciliation_report(first=today, last=today, account="1001")
    assert row.ok and row.awaiting_count == 0 and row.vos_count == 1


def test_the_report_flags_a_row_the_pay_history_covered_and_lacks(world, vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    entry = topup(world)
    vos_emulator.state.pay_history.clear()  # the switch lost the record
    entry_pay_history.apply(args=(entry.pk,), throw=True)
    today = timezone.localdate()
    [row] = report.reconciliation_report(first=today, last=today, account="1001")
    assert not row.ok and "not in VOS pay history" in row.problems[0]


def test_the_periodic_syncs_cursor_counts_as_covered(world, vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    entry = topup(world)
    vos_emulator.state.pay_history.clear()
    SyncState.objects.update_or_create(
        server=world.server,
        job=SyncState.Job.PAYMENTS,
        defaults={"cursor": {"through": (timezone.now() + timedelta(minutes=5)).isoformat()}},
    )
    today = timezone.localdate()
    [row] = report.reconciliation_report(first=today, last=today, account="1001")
    assert not row.ok and row.awaiting_count == 0
    assert entry.pk
