"""The staff sync status page and the admin of the mirror."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.models import SyncState
from tests.accounts.factories import CustomerFactory, StaffFactory

from .factories import SyncStateFactory, VosAccountFactory, VosServerFactory

Job = SyncState.Job


@pytest.fixture
def staff_client(client, db):
    user = StaffFactory()
    client.force_login(user)
    return client


def test_the_status_page_is_for_staff_only(client, db):
    url = reverse("staff_status")
    assert client.get(url).status_code == 302
    client.force_login(CustomerFactory())
    assert client.get(url).status_code == 302


def test_the_status_page_shows_each_job_of_each_server(staff_client):
    server = VosServerFactory(name="main")
    VosAccountFactory(server=server)
    now = timezone.now()
    SyncStateFactory(
        server=server, job=Job.BALANCES, last_success_at=now, last_rows=12, vos_calls=3
    )
    SyncStateFactory(
        server=server,
        job=Job.CDRS,
        last_success_at=now - timedelta(hours=1),
        last_error_at=now,
        last_error="VosUnavailable: GetCdr: HTTP 500",
    )
    SyncStateFactory(server=server, job=Job.DISCOVERY, last_success_at=now - timedelta(days=1))

    response = staff_client.get(reverse("staff_status"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "main" in html
    assert "VosUnavailable: GetCdr: HTTP 500" in html
    health = {row.job: row.health for row in response.context["servers"][0]["jobs"]}
    assert health == {
        "discovery": "late",
        "balances": "ok",
        "cdrs": "failing",
        "payments": "never",
        "reports": "never",
    }


def test_run_now_queues_the_job(staff_client, monkeypatch):
    from telephony import tasks

    server = VosServerFactory(name="main")
    queued = []
    monkeypatch.setattr(tasks.server_sync, "delay", lambda *args: queued.append(args))

    response = staff_client.post(reverse("staff_status"), {"server": server.pk, "job": "cdrs"})

    assert response.status_code == 302
    assert queued == [(server.pk, "cdrs")]


def test_run_now_refuses_an_unknown_job(staff_client, monkeypatch):
    from telephony import tasks

    server = VosServerFactory(name="main")
    queued = []
    monkeypatch.setattr(tasks.server_sync, "delay", lambda *args: queued.append(args))
    staff_client.post(reverse("staff_status"), {"server": server.pk, "job": "everything"})
    assert queued == []


@pytest.mark.parametrize("model", ["vosserver", "vosaccount", "phone", "cdr", "syncstate"])
def test_the_admin_lists_the_mirror(admin_client, model):
    server = VosServerFactory(name="main")
    VosAccountFactory(server=server)
    SyncStateFactory(server=server, last_success_at=timezone.now())
    assert admin_client.get(reverse(f"admin:telephony_{model}_changelist")).status_code == 200
