"""A task through real Redis to a real worker, seen in the database (CI sets REDIS_URL)."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections

from telephony import tasks
from telephony.models import SyncState, VosAccount

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="REDIS_URL is not set: no Redis broker to send a task through"
)


def _close_connections(**kwargs) -> None:
    # The worker thread's own database connections; left open they would keep PostgreSQL
    # from dropping the test database.
    connections.close_all()


@pytest.fixture
def redis_worker():
    from portal.celery import app

    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.broker_url = REDIS_URL
    app.conf.task_always_eager = False
    # A queue of its own: messages other tests left in Redis are not this worker's business.
    queue = f"portal-test-{uuid.uuid4().hex[:8]}"
    task_postrun.connect(_close_connections, weak=False)
    try:
        with start_worker(
            app, perform_ping_check=False, queues=[queue], pool="solo", shutdown_timeout=10
        ):
            yield queue
    finally:
        task_postrun.disconnect(_close_connections)
        app.conf.update(saved)


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_through_redis_updates_the_mirror(vos_server, redis_worker):
    tasks.server_sync.apply_async(args=[vos_server.pk, SyncState.Job.DISCOVERY], queue=redis_worker)

    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline:
        state = SyncState.objects.filter(server=vos_server, job=SyncState.Job.DISCOVERY).first()
        if state and (state.last_success_at or state.last_error):
            break
        time.sleep(0.2)

    assert state is not None and state.last_success_at is not None, state and state.last_error
    assert VosAccount.objects.filter(server=vos_server, account="1001").exists()
