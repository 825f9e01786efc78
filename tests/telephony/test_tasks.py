"""The Celery tasks, run with .apply(): idempotent, fanned out per server, alerts once."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Profile
from billing import tasks as billing_tasks
from telephony import tasks
from telephony.models import SyncState, VosAccount, VosServer
from telephony.vos import VosUnavailable
from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory

from .factories import VosAccountFactory, VosServerFactory

Job = SyncState.Job


@pytest.fixture
def eager(settings):
    from portal.celery import app

    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = False


def test_every_task_twice_changes_nothing_the_second_time(vos_server):
    for job in (Job.DISCOVERY, Job.BALANCES, Job.CDRS, Job.PAYMENTS, Job.REPORTS):
        tasks.server_sync.apply(args=[vos_server.pk, job], throw=True)
    snapshot = list(VosAccount.objects.order_by("pk").values())

    for job in (Job.DISCOVERY, Job.BALANCES, Job.CDRS, Job.PAYMENTS, Job.REPORTS):
        result = tasks.server_sync.apply(args=[vos_server.pk, job], throw=True).get()
        assert result["rows"] == 0, job

    after = list(VosAccount.objects.order_by("pk").values())
    for row in snapshot + after:
        row.pop("balance_as_of")
    assert after == snapshot


def test_the_periodic_tasks_fan_out_one_task_per_enabled_server(vos_server, eager):
    VosServerFactory(name="off", enabled=False)

    assert tasks.discovery_all.apply().get() == 1
    assert tasks.balances_all.apply().get() == 1

    assert SyncState.objects.filter(job=Job.DISCOVERY, last_success_at__isnull=False).count() == 1
    assert not SyncState.objects.filter(server__name="off").exists()


def test_one_server_down_does_not_hold_up_another(vos_server, vos_emulator_empty, eager):
    down = VosServer.objects.create(
        name="down", url=vos_emulator_empty.url, connect_timeout=1, read_timeout=1
    )
    vos_emulator_empty.stop()

    started = time.monotonic()
    tasks.discovery_all.apply()
    elapsed = time.monotonic() - started

    ok = SyncState.objects.get(server=vos_server, job=Job.DISCOVERY)
    failed = SyncState.objects.get(server=down, job=Job.DISCOVERY)
    assert ok.last_success_at is not None and ok.last_error == ""
    assert failed.last_success_at is None and "VosUnavailable" in failed.last_error
    assert VosAccount.objects.filter(server=vos_server).count() > 10
    assert elapsed < 30


def test_only_unavailable_vos_is_retried():
    assert tasks.server_sync.autoretry_for == (VosUnavailable,)
    assert tasks.server_sync.acks_late


def test_a_disabled_server_is_not_synced(db):
    server = VosServerFactory(enabled=False)
    assert tasks.server_sync.apply(args=[server.pk, Job.BALANCES], throw=True).get() == {}
    assert not SyncState.objects.exists()


# --- low-balance alerts -------------------------------------------------------------------


@pytest.fixture
def customer(db):
    account = VosAccountFactory(account="1001", balance=Decimal("20"))
    return CustomerFactory(vos_account=account, email="c@example.com")


def set_balance(user, amount: str) -> None:
    VosAccount.objects.filter(pk=user.profile.vos_account_id).update(balance=Decimal(amount))


def test_an_alert_is_sent_once_per_crossing(customer):
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert mail.outbox == []

    set_balance(customer, "4.99")
    assert billing_tasks.low_balance_alerts.apply(throw=True).get() == 1
    billing_tasks.low_balance_alerts.apply(throw=True)
    set_balance(customer, "1")
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["c@example.com"]
    assert "1001" in mail.outbox[0].subject

    # Back above: re-armed; the next crossing sends again.
    set_balance(customer, "50")
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert Profile.objects.get(user=customer).low_balance_alerted_at is None
    set_balance(customer, "2")
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert len(mail.outbox) == 2


def test_the_alert_uses_the_profile_threshold(customer):
    Profile.objects.filter(user=customer).update(low_balance_threshold=Decimal("100"))
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert len(mail.outbox) == 1


def test_a_claimed_alert_is_never_sent_twice(customer):
    """A second worker that loaded the profile before the first one claimed it sends nothing."""
    from billing.services import notify

    set_balance(customer, "1")
    Profile.objects.filter(user=customer).update(low_balance_alerted_at="2020-01-01T00:00Z")
    assert notify.low_balance_alerts_send() == 0
    assert mail.outbox == []


def test_resellers_are_alerted_about_their_own_balance(db):
    agent = VosAccountFactory(account="agent01", balance=Decimal("3"))
    ResellerFactory(vos_account=agent, email="r@example.com")
    VosAccountFactory(
        server=agent.server, account="1001", agent_account="agent01", balance=Decimal("100")
    )

    billing_tasks.low_balance_alerts.apply(throw=True)

    assert [m.to for m in mail.outbox] == [["r@example.com"]]
    assert "reseller" in mail.outbox[0].body


def test_staff_and_users_without_email_get_no_alert(db):
    StaffFactory()
    account = VosAccountFactory(balance=Decimal("0"))
    CustomerFactory(vos_account=account, email="")
    billing_tasks.low_balance_alerts.apply(throw=True)
    assert mail.outbox == []


def test_retention_task_runs(db):
    assert tasks.cdr_retention.apply(throw=True).get() == 0
