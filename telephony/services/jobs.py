"""Running a sync job: one server, one job, under a lock, recorded in SyncState.

Jobs are registered by name (`job_register`): telephony registers the mirror's own jobs,
billing registers the pay-history and fee-report jobs from its AppConfig, so this layer
never imports the apps above it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from ..models import SyncState, VosServer
from ..vos import CallStats, VosClient, client_for

log = logging.getLogger(__name__)


@contextmanager
def job_lock(*, key: str, timeout: int) -> Iterator[bool]:
    """A non-blocking lock in the Django cache (Redis in production): yields True if taken.

    ``cache.add`` is atomic in Redis (SET NX), so one run wins. The lock is deleted only by
    its owner (its token still stored); the timeout frees the lock of a crashed worker.
    """
    token = uuid.uuid4().hex
    # Per database too: portals (or test runs) sharing one Redis never block each other.
    key = f"telephony:lock:{connection.settings_dict['NAME']}:{key}"
    acquired = cache.add(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


@dataclass(frozen=True)
class JobOutcome:
    server: str
    job: str
    rows: int = 0
    vos_calls: int = 0
    duration_ms: int = 0
    skipped: bool = False  # another run of the same job on the same server holds the lock


JobFunc = Callable[..., int]


@dataclass(frozen=True)
class JobSpec:
    run: JobFunc  # run(server=, client=, state=) -> rows written
    lock_timeout: int  # seconds; only a crashed worker ever lets a lock expire


JOBS: dict[str, JobSpec] = {}


def job_register(job: str, run: JobFunc, *, lock_timeout: int) -> None:
    """Make ``job`` runnable by name (apps register their jobs in ``AppConfig.ready``)."""
    JOBS[job] = JobSpec(run=run, lock_timeout=lock_timeout)


def run_client(server: VosServer) -> VosClient:
    """The server's pooled connection with its own call counter (for SyncState.vos_calls)."""
    base = client_for(server)
    connect, read = base.timeout
    client = base.with_timeouts(connect, read, retries=base.read_retries)
    client.stats = CallStats()
    return client


def server_job_run(*, server: VosServer, job: str, client: VosClient | None = None) -> JobOutcome:
    """Run one job for one server under its lock, recording the run in SyncState.

    A run already in progress elsewhere makes this a no-op (``skipped``). Errors are
    recorded and raised again (the Celery task retries VosUnavailable).
    """
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    with job_lock(key=f"{server.pk}:{job}", timeout=JOBS[job].lock_timeout) as acquired:
        if not acquired:
            log.info("sync %s/%s already running; skipped", server.name, job)
            return JobOutcome(server=server.name, job=job, skipped=True)
        return _job_run_locked(server=server, job=job, client=client or run_client(server))


def _job_run_locked(*, server: VosServer, job: str, client: VosClient) -> JobOutcome:
    state, _created = SyncState.objects.get_or_create(server=server, job=job)
    started_at = timezone.now()
    SyncState.objects.filter(pk=state.pk).update(last_started_at=started_at)
    calls_before = client.stats.calls
    started = time.monotonic()
    try:
        rows = JOBS[job].run(server=server, client=client, state=state)
    except Exception as exc:
        duration = int((time.monotonic() - started) * 1000)
        SyncState.objects.filter(pk=state.pk).update(
            last_error_at=timezone.now(),
            last_error=_error_text(exc),
            last_duration_ms=duration,
            vos_calls=client.stats.calls - calls_before,
            cursor=state.cursor,
        )
        log.warning("sync %s/%s failed: %s", server.name, job, exc)
        raise
    duration = int((time.monotonic() - started) * 1000)
    calls = client.stats.calls - calls_before
    SyncState.objects.filter(pk=state.pk).update(
        last_success_at=timezone.now(),
        last_error="",
        last_rows=rows,
        last_duration_ms=duration,
        vos_calls=calls,
        cursor=state.cursor,
    )
    cache.delete(SyncState.synced_cache_key(server.pk, job))
    log.info("sync %s/%s: %d rows, %d VOS calls, %d ms", server.name, job, rows, calls, duration)
    return JobOutcome(server=server.name, job=job, rows=rows, vos_calls=calls, duration_ms=duration)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


# --- Cursors kept in SyncState.cursor (JSON) -----------------------------------------------


def cursor_date(state: SyncState, key: str) -> date | None:
    value = state.cursor.get(key)
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def cursor_time(state: SyncState, key: str) -> datetime | None:
    value = state.cursor.get(key)
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
