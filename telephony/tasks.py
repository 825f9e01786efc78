"""Celery jobs that keep the mirror of VOS fresh (schedule: CELERY_BEAT_SCHEDULE in settings).

Each periodic ``*_all`` task only fans out one small ``server_sync`` task per enabled server,
so a server that is down never delays the others. ``server_sync`` takes ids, runs one job
under its per-(server, job) lock (telephony.sync.server_job_run) and is retried with backoff
only when VOS is unavailable.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from . import sync
from .models import SyncState, VosServer
from .vos import VosUnavailable

Job = SyncState.Job


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(VosUnavailable,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=3,
)
def server_sync(self, server_id: int, job: str) -> dict:
    """Run one sync job for one server (a no-op for a disabled or deleted server)."""
    server = VosServer.objects.filter(pk=server_id, enabled=True).first()
    if server is None:
        return {}
    return asdict(sync.server_job_run(server=server, job=job))


def _fan_out(job: str) -> int:
    server_ids = list(VosServer.objects.filter(enabled=True).values_list("pk", flat=True))
    for server_id in server_ids:
        server_sync.delay(server_id, job)
    return len(server_ids)


@shared_task(acks_late=True)
def discovery_all() -> int:
    return _fan_out(Job.DISCOVERY)


@shared_task(acks_late=True)
def balances_all() -> int:
    return _fan_out(Job.BALANCES)


@shared_task(acks_late=True)
def cdrs_all() -> int:
    return _fan_out(Job.CDRS)


@shared_task(acks_late=True)
def pay_history_all() -> int:
    return _fan_out(Job.PAYMENTS)


@shared_task(acks_late=True)
def fee_reports_all() -> int:
    return _fan_out(Job.REPORTS)


@shared_task(acks_late=True)
def low_balance_alerts() -> int:
    """E-mails at most once per crossing, whoever runs it and however often."""
    return sync.low_balance_alerts_send()


@shared_task(acks_late=True)
def cdr_retention() -> int:
    return sync.cdrs_retention_prune()
