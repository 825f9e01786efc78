"""2. CDR ingest: a month of call records for every account, then the same month again.

Subject: ``telephony.services.cdrs.cdr_backfill`` over 31 closed server days (the path of
``manage.py cdr_backfill`` and of the periodic job's catch-up). Reference: a bare
``requests`` loop asking the emulator the same GetCdr windows and decoding the JSON, i.e.
what any ingest must at least pay, run once before the subject and once after (its rate is
that of both runs together). Peak RSS is this process's own; the emulator runs apart.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from bench.emulator import EmulatorProcess
from bench.fixtures import server_create, table_analyze
from bench.measure import Report, Target, profiled, rss_watch

SIZES = {
    "smoke": {"accounts": 50, "cdrs": 5_000, "days": 31},
    "full": {"accounts": 2_000, "cdrs": 1_000_000, "days": 31},
}


def _reference(url: str, accounts: list[str], windows) -> tuple[float, int, int]:
    """Seconds, rows and calls of the same GetCdr requests through a plain requests loop."""
    import requests

    from telephony.services.cdrs import CDR_ACCOUNTS_PER_CALL
    from telephony.vos import REQUEST_HEADERS, chunked, encode_body, format_day

    session = requests.Session()
    rows = calls = 0
    started = time.perf_counter()
    for first, last in windows:
        for names in chunked(accounts, CDR_ACCOUNTS_PER_CALL):
            payload = {
                "accounts": names,
                "beginTime": format_day(first),
                "endTime": format_day(last),
            }
            response = session.post(
                f"{url.rstrip('/')}/GetCdr",
                data=encode_body(payload),
                headers=REQUEST_HEADERS,
                timeout=300,
            )
            response.raise_for_status()
            rows += len(json.loads(response.content)["infoCdrs"])
            calls += 1
    seconds = time.perf_counter() - started
    session.close()
    return seconds, rows, calls


def _rollups_digest(server) -> tuple:
    """Sums over every rollup of ``server``: any change to them changes these."""
    from django.db.models import Count, Sum

    from telephony.models import CdrRollup

    row = CdrRollup.objects.filter(server=server).aggregate(
        Sum("calls"),
        Sum("answered"),
        Sum("talk_seconds"),
        Sum("billed_seconds"),
        Sum("cost"),
        Count("id"),
    )
    return tuple(row.values())


def run(*, accounts: int, cdrs: int, days: int) -> Report:
    from telephony import selectors
    from telephony.models import Cdr, SyncState, VosAccount
    from telephony.services import cdrs as cdr_jobs
    from telephony.services import jobs
    from telephony.vos import day_windows

    report = Report()
    per_day = cdrs / (accounts * days)
    with EmulatorProcess(
        kind="scale", accounts=accounts, cdrs_per_account_per_day=per_day, history_days=days
    ) as emu:
        server = server_create(emu.url)
        jobs.server_job_run(server=server, job=SyncState.Job.DISCOVERY)
        names = list(
            VosAccount.objects.filter(server=server)
            .order_by("account")
            .values_list("account", flat=True)
        )
        last = selectors.server_today(server) - timedelta(days=1)
        first = last - timedelta(days=days - 1)
        windows = list(day_windows(first, last, cdr_jobs.CDR_WINDOW_DAYS))

        # The reference brackets the subject: once before it and once after, so that a
        # machine that speeds up or slows down during the run moves both sides alike.
        ref_first = _reference(emu.url, names, windows)
        calls_before = emu.calls().get("GetCdr", 0)
        with rss_watch() as rss:
            started = time.perf_counter()
            with profiled():
                added = cdr_jobs.cdr_backfill(server=server, first=first, last=last)
            seconds = time.perf_counter() - started
        calls = emu.calls().get("GetCdr", 0) - calls_before

        # Fresh planner statistics for the re-run, as autovacuum gives a production server
        # (test servers often run without it; see the details' "autovacuum").
        autovacuum = table_analyze(Cdr)
        rollups_before = _rollups_digest(server)
        started = time.perf_counter()
        again = cdr_jobs.cdr_backfill(server=server, first=first, last=last)
        again_seconds = time.perf_counter() - started
        stored = Cdr.objects.filter(server=server).count()
        rollups_changed = int(_rollups_digest(server) != rollups_before)
        rollup_calls = rollups_before[0]
        # After the subject's peak RSS is read, so its decoded answers never count there.
        ref_last = _reference(emu.url, names, windows)
    window_rows, ref_calls = ref_last[1], ref_last[2]
    ref_rate = (ref_first[1] + ref_last[1]) / (ref_first[0] + ref_last[0])

    report.add(
        "rows/s",
        added / seconds,
        "/s",
        reference=ref_rate,
        target=Target(min_ratio=0.8),
        note="rollups included",
    )
    report.add(
        "peak RSS",
        rss.peak,
        "MB",
        target=Target(max=300),
        note=f"{rss.before:.0f} MB before the run",
    )
    report.add("re-run adds rows", again, target=Target(max=1))
    report.add("re-run changes rollups", rollups_changed, target=Target(max=1))
    report.add("calls in the rollups", rollup_calls, reference=added, note="= rows added")
    report.add(
        "re-run rows/s",
        window_rows / again_seconds if again_seconds else None,
        "/s",
        reference=ref_rate,
        note="same window again: all keys known",
    )
    report.add("GetCdr calls", calls, reference=ref_calls, better="lower")
    report.details.update(
        accounts=len(names),
        first=first.isoformat(),
        last=last.isoformat(),
        rows_added=added,
        rows_stored=stored,
        rows_reference=window_rows,
        seconds=seconds,
        reference_seconds=[ref_first[0], ref_last[0]],
        reference_rows_per_s_before=ref_first[1] / ref_first[0],
        reference_rows_per_s_after=ref_last[1] / ref_last[0],
        rerun_seconds=again_seconds,
        rss_before_mb=rss.before,
        rss_peak_mb=rss.peak,
        rss_growth_mb=rss.growth,
        autovacuum=autovacuum,
    )
    return report
