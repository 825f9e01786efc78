"""Celery jobs that keep the mirror of VOS fresh (schedule: CELERY_BEAT_SCHEDULE in settings).

Each periodic ``*_all`` task only fans out one small ``server_sync`` task per enabled server,
so a server that is down never delays the others. ``server_sync`` takes ids, runs one job
under its per-(server, job) lock (telephony.services.jobs.server_job_run) and is retried
with backoff only when VOS is unavailable.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from .models import SyncState, VosServer
from .services import cdr_partitions, cdrs, jobs
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
    return asdict(jobs.server_job_run(server=server, job=job))


def fan_out(job: str) -> int:
    """Queue one ``server_sync`` of ``job`` per enabled server; returns how many."""
    server_ids = list(VosServer.objects.filter(enabled=True).values_list("pk", flat=True))
    for server_id in server_ids:
        server_sync.delay(server_id, job)
    return len(server_ids)


@shared_task(acks_late=True)
def rates_all() -> int:
    return fan_out(Job.RATES)


@shared_task(acks_late=True)
def discovery_all() -> int:
    return fan_out(Job.DISCOVERY)


@shared_task(acks_late=True)
def balances_all() -> int:
    return fan_out(Job.BALANCES)


@shared_task(acks_late=True)
def cdrs_all() -> int:
    return fan_out(Job.CDRS)


@shared_task(acks_late=True)
def cdr_retention() -> int:
    return cdrs.cdrs_retention_prune()


@shared_task(acks_late=True)
def cdr_partitions_ahead() -> list[str]:
    """PostgreSQL: create the call-record partitions of the coming months (safe to repeat)."""
    return cdr_partitions.partitions_ensure()
