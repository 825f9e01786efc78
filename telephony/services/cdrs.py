"""The call-record jobs: GetCdr of open days, backfills and retention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..models import Cdr, SyncState, VosServer
from ..selectors import day_start, known_accounts, server_today
from ..vos import VosClient, chunked, day_windows, fetched_ahead
from .cdr_partitions import is_partitioned, partitions_drop_before
from .cdr_store import cdrs_store, retention_cutoff
from .jobs import cursor_date, job_lock, run_client

Job = SyncState.Job

# GetCdr: accounts per call (the manual sets no limit; this keeps requests and answers a
# sensible size).
CDR_ACCOUNTS_PER_CALL = 100
# Days asked per GetCdr call before any -10033; the learned size is kept per server.
CDR_WINDOW_DAYS = 7
# A server day is "surely closed" this long after its midnight: calls still running at
# midnight have ended and been written by then.
CDR_DAY_CLOSE_GRACE = timedelta(hours=3)
# When the CDR job has been down, it catches up at most this many days by itself; longer
# gaps are for `manage.py cdr_backfill`.
CDR_CATCH_UP_DAYS = 7
RETENTION_BATCH = 5000


def cdrs_fetch(
    *,
    server: VosServer,
    client: VosClient,
    first: date,
    last: date,
    accounts: Sequence[str] | None = None,
) -> int:
    """GetCdr for ``accounts`` (default: every known one) on server days first..last.

    Accounts go 100 to a call; windows of ``client.cdr_window_days`` days, halved by the
    client on -10033. Each batch is stored as soon as it arrives, while the next one is
    fetched. Returns rows added.
    """
    return cdrs_fetch_windows(
        server=server, client=client, windows=[(first, last)], accounts=accounts
    )


def cdrs_fetch_windows(
    *,
    server: VosServer,
    client: VosClient,
    windows: Sequence[tuple[date, date]],
    accounts: Sequence[str] | None = None,
    progress: Callable[[date, date, int], Any] | None = None,
) -> int:
    """`cdrs_fetch` of several windows of server days as one stream of GetCdr calls.

    The next window's first batch is fetched while the last batch of the window before is
    stored, so VOS never waits for the portal between windows. ``progress(first, last,
    rows)`` is called once per window, after its last batch is stored. Returns rows added.

    On PostgreSQL a second look-ahead thread decodes each answer while the first fetches
    the next; SQLite decodes in the storing thread, where it costs less (docs/PERFORMANCE.md,
    "The CDR ingest in three stages").
    """
    accounts = known_accounts(server) if accounts is None else list(accounts)
    if not accounts:
        for first, last in windows:
            if progress:
                progress(first, last, 0)
        return 0
    decode_ahead = connection.vendor == "postgresql"
    batches = list(chunked(accounts, CDR_ACCOUNTS_PER_CALL))
    asks = [
        (first, last, batch, index == len(batches) - 1)
        for first, last in windows
        for index, batch in enumerate(batches)
    ]

    def ask(item: tuple[date, date, list[str], bool]) -> list[Any]:
        first, last, batch, _ = item
        return client.get_cdr_wire_records(accounts=batch, begin=first, end=last)

    answers = fetched_ahead(ask, asks)
    if decode_ahead:
        # A stage of its own: the fetching thread asks VOS for the next answer while this
        # one decodes the last, so the softswitch never waits for the decoding.
        answers = fetched_ahead(client.cdrs_decoded, answers)
    added = window_rows = 0
    for (first, last, _, window_done), records in zip(asks, answers, strict=True):
        if not decode_ahead:
            records = client.cdrs_decoded(records)
        rows = cdrs_store(server=server, records=records)
        added += rows
        window_rows += rows
        if window_done:
            if progress:
                progress(first, last, window_rows)
            window_rows = 0
    return added


def cdrs_sync(
    *, server: VosServer, client: VosClient, state: SyncState, now: datetime | None = None
) -> int:
    """Today's call records, and the days before it until each is surely closed.

    ``state.cursor["closed_through"]`` is the last server day fetched after its close; the
    days after it up to today are asked again on every run (catching up at most
    CDR_CATCH_UP_DAYS), so late-written records are picked up.
    """
    now = now or timezone.now()
    today = server_today(server, now)
    closed_through = cursor_date(state, "closed_through")
    if closed_through is None:
        closed_through = today - timedelta(days=2)
    first = max(closed_through + timedelta(days=1), today - timedelta(days=CDR_CATCH_UP_DAYS))
    first = min(first, today)
    added = cdrs_fetch(server=server, client=client, first=first, last=today)
    # The newest day that is over and past its grace period is now fully mirrored.
    closed = today - timedelta(days=1)
    if now < day_start(server, today) + CDR_DAY_CLOSE_GRACE:
        closed -= timedelta(days=1)
    state.cursor["closed_through"] = max(closed, closed_through).isoformat()
    return added


def cdrs_job(*, server: VosServer, client: VosClient, state: SyncState) -> int:
    """The periodic CDR job, keeping the GetCdr window this server accepts."""
    window = int(state.cursor.get("window_days") or CDR_WINDOW_DAYS)
    client.cdr_window_days = max(1, window)
    try:
        return cdrs_sync(server=server, client=client, state=state)
    finally:
        # Keep the window size this server accepts (the client halves it on -10033).
        state.cursor["window_days"] = client.cdr_window_days


def cdr_backfill(
    *,
    server: VosServer,
    first: date,
    last: date,
    progress: Callable[[date, date, int], Any] | None = None,
) -> int:
    """Fetch call records of server days first..last (idempotent); returns rows added.

    Runs under its own lock (two backfills of one server never overlap); it may overlap the
    periodic CDR job harmlessly, since both only insert keys not yet stored.
    """
    if first > last:
        raise ValueError("first day is after last day")
    with job_lock(key=f"{server.pk}:cdr_backfill", timeout=6 * 60 * 60) as acquired:
        if not acquired:
            raise RuntimeError(f"a CDR backfill of {server.name} is already running")
        client = run_client(server)
        state = SyncState.objects.filter(server=server, job=Job.CDRS).first()
        window = int((state.cursor if state else {}).get("window_days") or CDR_WINDOW_DAYS)
        client.cdr_window_days = max(1, window)
        return cdrs_fetch_windows(
            server=server,
            client=client,
            windows=list(day_windows(first, last, max(window, 1))),
            progress=progress,
        )


def cdrs_prune(*, before: datetime, batch_size: int = RETENTION_BATCH) -> int:
    """Remove call records that started before ``before``; returns how many.

    PostgreSQL (partitioned by month): whole months that ended by ``before`` are dropped,
    the month ``before`` falls in stays until it is over. SQLite: rows are deleted, a
    limited batch at a time. The rollups are kept either way (statements still add up).
    """
    if is_partitioned():
        return partitions_drop_before(before=before)
    deleted = 0
    while True:
        ids = list(
            Cdr.objects.filter(start__lt=before)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            count, _by_model = Cdr.objects.filter(
                id__gte=ids[0], id__lte=ids[-1], start__lt=before
            ).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted


def cdrs_retention_prune(*, now: datetime | None = None) -> int:
    return cdrs_prune(before=retention_cutoff(now))
