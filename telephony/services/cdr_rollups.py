"""Call rollups: per account and quarter hour (UTC), kept with the raw rows they sum.

The ingest (``cdr_store``) adds to the rollups in the statement or transaction that adds the
rows, counting only rows actually inserted, so a re-synced window changes nothing;
``rollups_rebuild`` recomputes a range from the raw rows (``manage.py cdr_rollups_rebuild``).
Pages read them through ``telephony.selectors`` (docs/PERFORMANCE.md, "Rollups").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from ..models import ROLLUP_BUCKET_SECONDS, Cdr, CdrRollup

BUCKET = timedelta(seconds=ROLLUP_BUCKET_SECONDS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_floor(moment: datetime) -> datetime:
    """The start of the quarter hour (UTC) ``moment`` falls in."""
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    return _EPOCH + timedelta(seconds=seconds - seconds % ROLLUP_BUCKET_SECONDS)


def bucket_ceil(moment: datetime) -> datetime:
    """The first bucket start at or after ``moment``."""
    floor = bucket_floor(moment)
    return floor if floor == moment else floor + BUCKET


def bucket_sql(column: str) -> str:
    """SQL for the bucket start of the UTC moment in ``column``, in the column's own format.

    SQLite's text must be run with parameters (``%%s`` is Django's escaped ``%s``); its
    fraction is cut off first, since SQLite rounds it (23:59:59.9999 would be the next day).
    """
    if connection.vendor == "postgresql":
        return f"date_bin('15 minutes', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    return (
        f"datetime((CAST(strftime('%%s', substr({column}, 1, 19)) AS INTEGER)"
        f" / {ROLLUP_BUCKET_SECONDS})"
        f" * {ROLLUP_BUCKET_SECONDS}, 'unixepoch')"
    )


def _money_sum(expression: str) -> str:
    # SQLite sums NUMERIC in floating point; four places make the sum exact again.
    return expression if connection.vendor == "postgresql" else f"ROUND({expression}, 4)"


def rollup_upsert_sql(source: str, where: str = "TRUE") -> str:
    """INSERT adding the rows of ``source`` (Cdr's columns) to their buckets' rollups.

    ``source`` is a table or CTE name; ``where`` filters it (SQLite needs a WHERE before an
    upsert's ON CONFLICT after a SELECT, so it is always there)."""
    quote = connection.ops.quote_name
    table = quote(CdrRollup._meta.db_table)
    bucket = bucket_sql("start")
    columns = ("calls", "answered", "talk_seconds", "billed_seconds", "cost")
    updates = ", ".join(
        f"{quote(c)} = "
        + (
            _money_sum(f"{table}.{quote(c)} + EXCLUDED.{quote(c)}")
            if c == "cost"
            else f"{table}.{quote(c)} + EXCLUDED.{quote(c)}"
        )
        for c in columns
    )
    return (
        f"INSERT INTO {table} (server_id, account, bucket, {', '.join(map(quote, columns))}) "
        f"SELECT server_id, account, {bucket}, COUNT(*), "
        f"SUM(CASE WHEN hold_time > 0 THEN 1 ELSE 0 END), SUM(hold_time), SUM(fee_time), "
        f"{_money_sum('SUM(fee)')} FROM {source} WHERE {where} GROUP BY 1, 2, 3 "
        f"ON CONFLICT (server_id, account, bucket) DO UPDATE SET {updates}"
    )


def _stored_range(server_id: int | None) -> tuple[datetime, datetime] | None:
    rows = Cdr.objects.all()
    if server_id is not None:
        rows = rows.filter(server_id=server_id)
    first = rows.order_by("start").values_list("start", flat=True).first()
    last = rows.order_by("-start").values_list("start", flat=True).first()
    return None if first is None else (first, last)


def rollups_rebuild(
    *,
    server_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Recompute the rollups of the buckets from the one ``since`` falls in to the one
    ``until`` falls in, from the raw rows.

    The range defaults to the raw rows still stored, so
    buckets whose raw rows retention dropped keep their rollups. Returns the rollup rows
    written. Concurrent ingest waits (PostgreSQL: a table lock) and adds after it.
    """
    stored = _stored_range(server_id)
    if stored is None and (since is None or until is None):
        return 0
    lo = bucket_floor(since or stored[0])
    hi = bucket_floor(until or stored[1]) + BUCKET
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(CdrRollup._meta.db_table)} "
                "IN SHARE ROW EXCLUSIVE MODE"
            )
        rollups = CdrRollup.objects.filter(bucket__gte=lo, bucket__lt=hi)
        raw_where = "start >= %s AND start < %s"
        adapt = connection.ops.adapt_datetimefield_value
        params: list = [adapt(lo), adapt(hi)]
        if server_id is not None:
            rollups = rollups.filter(server_id=server_id)
            raw_where += " AND server_id = %s"
            params.append(server_id)
        rollups.delete()
        table = connection.ops.quote_name(Cdr._meta.db_table)
        cursor.execute(rollup_upsert_sql(table, raw_where), params)
        return cursor.rowcount


def rollups_touch(*, server_id: int, since: datetime, until: datetime) -> None:
    """Other backends (no raw-SQL ingest): rebuild the buckets a stored batch touched."""
    rollups_rebuild(server_id=server_id, since=since, until=until)
