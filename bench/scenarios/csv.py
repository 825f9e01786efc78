"""4. CSV export of one account's calls in the window (the calls page's fixture).

Subject: the streamed export view (``customer:calls_csv``) through the test client, its
stream read to the end. Reference: the same rows read with a bare database cursor and
written by ``csv.writer`` to a sink, the least any export must do. RSS growth is measured
in this process over the subject's run.
"""

from __future__ import annotations

import csv
import io
import time

from bench.emulator import EmulatorProcess
from bench.fixtures import customer_with_calls
from bench.measure import NotAvailable, Report, Target, profiled, rss_watch

SIZES = {
    "smoke": {"total": 10_000, "target_rows": 2_000, "others": 20, "days": 31, "repeat": 1},
    "full": {"total": 1_000_000, "target_rows": 200_000, "others": 99, "days": 31, "repeat": 2},
}
URL_NAMES = ("customer:calls_csv", "customer:calls_export")


def _export_url() -> str:
    from django.urls import NoReverseMatch, reverse

    from bench.scenarios.calls import view_is_real

    for name in URL_NAMES:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        if view_is_real(url):
            return url
    raise NotAvailable(f"no CSV export view ({' / '.join(URL_NAMES)})")


def _subject(client, url: str, params: dict) -> tuple[int, int]:
    """Rows (lines after the header) and bytes of the export, read as a browser would."""
    response = client.get(url, params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    lines = size = 0
    chunks = response.streaming_content if response.streaming else [response.content]
    for chunk in chunks:
        lines += chunk.count(b"\n")
        size += len(chunk)
    return lines - 1, size


def _reference(account, fixture) -> int:
    from django.db import connection

    from telephony.models import Cdr
    from telephony.selectors import CSV_COLUMNS

    table = Cdr._meta.db_table
    sql = (
        f"SELECT {', '.join(CSV_COLUMNS)} FROM {table} WHERE server_id = %s AND account = %s "
        "AND start >= %s AND start < %s ORDER BY start DESC, id DESC"
    )
    sink = io.StringIO()
    writer = csv.writer(sink)
    rows = 0
    with connection.cursor() as cursor:
        begin, end = (
            connection.ops.adapt_datetimefield_value(m) for m in (fixture.begin, fixture.end)
        )
        cursor.execute(sql, [account.server_id, account.account, begin, end])
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            rows += len(batch)
            sink.seek(0)
            sink.truncate()
    return rows


def run(*, total: int, target_rows: int, others: int, days: int, repeat: int) -> Report:
    from django.test import Client

    with EmulatorProcess(kind="scale", accounts=others + 1) as emu:
        user, account, fixture = customer_with_calls(
            url=emu.url, total=total, target_rows=target_rows, others=others, days=days
        )
        url = _export_url()
        client = Client()
        client.force_login(user)
        params = {"start": fixture.first.isoformat(), "end": fixture.last.isoformat()}
        best = best_ref = float("inf")
        growth = peak = 0.0
        rows = ref_rows = size = 0
        for _ in range(repeat):
            started = time.perf_counter()
            ref_rows = _reference(account, fixture)
            best_ref = min(best_ref, time.perf_counter() - started)
            with rss_watch() as rss:
                started = time.perf_counter()
                with profiled():
                    rows, size = _subject(client, url, params)
                best = min(best, time.perf_counter() - started)
            growth, peak = max(growth, rss.growth), max(peak, rss.peak)

    report = Report()
    report.add(
        "rows/s", rows / best, "/s", reference=ref_rows / best_ref, target=Target(min_ratio=0.8)
    )
    report.add("RSS growth", growth, "MB", target=Target(max=50), note=f"peak {peak:.0f} MB")
    report.add(
        "rows exported",
        rows,
        reference=ref_rows,
        target=Target(min_ratio=1.0),
        note="all rows of the window",
    )
    report.details.update(
        rows=rows,
        bytes=size,
        seconds=best,
        reference_seconds=best_ref,
        rss_growth_mb=growth,
        rss_peak_mb=peak,
    )
    return report
