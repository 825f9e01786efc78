"""Refunds and chargebacks of online payments, and who gets a reseller's customer's money."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from accounts.services.audit import Actor
from billing.models import LedgerEntry, OnlinePayment, PaymentNotification
from billing.services import online, transfers
from tests.accounts.factories import StaffFactory
from tests.billing.factories import demo_world
from tests.billing.online_support import (
    deliver,
    dispute_event,
    portal_pays,
    refund_event,
    session_event,
    start_payment,
)

pytest_plugins = ["tests.billing.online_fixtures"]

Kind = LedgerEntry.Kind
State = LedgerEntry.State
Outcome = PaymentNotification.Outcome


@pytest.fixture
def world(db, vos_server, vos_client, stripe_portal):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def cust(client, world):
    client.force_login(world.customer)
    return client


@pytest.fixture
def credited(cust, world, run_tasks, django_capture_on_commit_callbacks):
    payment = start_payment(cust, "40")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(payment))
    payment.refresh_from_db()
    assert payment.state == OnlinePayment.State.CREDITED
    return payment


def test_a_refund_with_auto_deduction_takes_the_money_back_once(
    cust, credited, vos_emulator, settings, django_capture_on_commit_callbacks
):
    settings.ONLINE_REFUNDS_AUTO = True
    before = vos_emulator.state.balance("1001")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert deliver(cust, refund_event(credited, refunded_minor=1500)).status_code == 200
    reversal = LedgerEntry.objects.get(kind=Kind.ONLINE_REVERSAL)
    assert reversal.amount == Decimal("-15") and reversal.state == State.APPLIED
    assert vos_emulator.state.balance("1001") == before - 15
    credited.refresh_from_db()
    assert credited.refunded == Decimal("15")


def test_partial_refunds_deduct_only_what_is_new_even_out_of_order(
    cust, credited, vos_emulator, settings, django_capture_on_commit_callbacks
):
    settings.ONLINE_REFUNDS_AUTO = True
    before = vos_emulator.state.balance("1001")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, refund_event(credited, refunded_minor=1000))
        deliver(cust, refund_event(credited, refunded_minor=2500))
        deliver(cust, refund_event(credited, refunded_minor=1000))  # late, older total
    amounts = sorted(
        LedgerEntry.objects.filter(kind=Kind.ONLINE_REVERSAL).values_list("amount", flat=True)
    )
    assert amounts == [Decimal("-15"), Decimal("-10")]
    assert vos_emulator.state.balance("1001") == before - 25


def test_a_refund_over_the_payment_is_refused(cust, credited, vos_emulator, settings):
    settings.ONLINE_REFUNDS_AUTO = True
    deliver(cust, refund_event(credited, refunded_minor=9999))
    assert PaymentNotification.objects.latest("received_at").outcome == Outcome.BAD_AMOUNT
    assert not LedgerEntry.objects.filter(kind=Kind.ONLINE_REVERSAL).exists()


def test_a_held_chargeback_waits_for_staff_and_is_never_failed_by_the_sweep(
    cust, credited, vos_emulator, rf: RequestFactory
):
    from datetime import timedelta

    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.utils import timezone

    before = vos_emulator.state.balance("1001")
    deliver(cust, dispute_event(credited, amount_minor=4000, dispute_id="dp_1"))
    deliver(cust, dispute_event(credited, amount_minor=4000, dispute_id="dp_1"))
    held = LedgerEntry.objects.get(kind=Kind.ONLINE_REVERSAL)
    assert held.state == State.PENDING and held.sent_at is None
    LedgerEntry.objects.filter(pk=held.pk).update(created_at=timezone.now() - timedelta(hours=1))
    transfers.ledger_sweep()
    assert LedgerEntry.objects.get(pk=held.pk).state == State.PENDING
    assert vos_emulator.state.balance("1001") == before

    staff = StaffFactory(is_superuser=True)
    request = rf.post("/admin/billing/onlinepayment/")
    request.user = staff
    request.session = {}
    request._messages = FallbackStorage(request)
    admin = site._registry[OnlinePayment]
    admin.apply_held_deductions(request, OnlinePayment.objects.filter(pk=credited.pk))
    admin.apply_held_deductions(request, OnlinePayment.objects.filter(pk=credited.pk))
    assert LedgerEntry.objects.get(pk=held.pk).state == State.APPLIED
    assert vos_emulator.state.balance("1001") == before - 40


def test_a_held_deduction_can_be_dismissed_and_then_never_sent(cust, credited, vos_emulator):
    deliver(cust, refund_event(credited, refunded_minor=4000))
    held = LedgerEntry.objects.get(kind=Kind.ONLINE_REVERSAL)
    assert online.online_reversal_dismiss(actor=Actor(user=None), entry_id=held.pk)
    assert online.online_reversal_apply(actor=None, entry_id=held.pk).state == State.FAILED
    assert len(portal_pays(vos_emulator)) == 1  # only the credit


def test_a_refund_before_the_paid_notification_is_asked_again(cust, world, run_tasks):
    payment = start_payment(cust, "40")
    assert deliver(cust, refund_event(payment, refunded_minor=4000)).status_code == 409
    assert not LedgerEntry.objects.exists()


def test_a_customer_of_a_prepaid_reseller_is_credited_and_the_reseller_not_debited(
    client, vos_server, vos_client, stripe_portal, vos_emulator, run_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    world = demo_world(vos_server, vos_client, prepaid=True)
    client.force_login(world.customer)
    agent_before = vos_emulator.state.balance("agent01")
    before = vos_emulator.state.balance("1001")
    payment = start_payment(client, "40")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, session_event(payment))
    rows = list(LedgerEntry.objects.all())
    assert [(r.kind, r.account, r.amount) for r in rows] == [(Kind.ONLINE, "1001", Decimal("40"))]
    assert rows[0].reseller_account == "agent01" and rows[0].parent_id is None
    assert vos_emulator.state.balance("1001") == before + 40
    assert vos_emulator.state.balance("agent01") == agent_before
    # The reseller's daily top-up cap is theirs: online payments do not use it.
    from billing.services.topups import reseller_day_total

    assert reseller_day_total(agent=world.account("agent01")) == 0
