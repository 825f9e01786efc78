"""Storing call records: plain rows by natural key (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import Cdr, VosAccount, VosServer
from ..vos import CdrRecord, chunked
from .cdr_rollups import rollup_upsert_sql, rollups_touch

# Rows a transaction: one GetCdr answer of 100 accounts for a week is about 11,000.
CDR_INSERT_BATCH = 20000


# Cdr fields written by `cdrs_store`, in the order of `_cdr_values`.
_CDR_FIELDS = (
    "server",
    "natural_key",
    "flow_no",
    "account",
    "agent_account",
    "caller_e164",
    "caller_access_e164",
    "callee_e164",
    "callee_access_e164",
    "caller_gateway",
    "callee_gateway",
    "caller_ip",
    "callee_ip",
    "start",
    "stop",
    "hold_time",
    "fee_time",
    "fee",
    "fee_prefix",
    "call_level",
    "end_direction",
    "end_reason",
)
# Backends whose INSERT takes ON CONFLICT (...) DO NOTHING (SQLite >= 3.24, PostgreSQL).
_ON_CONFLICT_VENDORS = {"sqlite", "postgresql"}


# CdrRecord's text columns, account..callee_ip of _CDR_FIELDS (all CharField(max_length=64)),
# and its fields in _CDR_FIELDS' order: CdrRecord is a named tuple in the same order, but
# for flow_no, which is last there.
_TEXTS = slice(0, 10)
_START, _STOP, _FEE_PREFIX, _FLOW_NO = 10, 11, 15, 19
# hold_time, fee_time, fee, fee_prefix, call_level, end_direction, end_reason
_COUNTS = slice(12, 19)
_TEXT_WIDTH = 64


def _cdr_values(server_id: int, record: CdrRecord, adapt: Callable[[datetime], Any]) -> tuple:
    """One record as Cdr column values, in the order of _CDR_FIELDS."""
    texts = record[_TEXTS]
    counts = record[_COUNTS]
    if (
        max(map(len, texts)) <= _TEXT_WIDTH
        and len(record[_FEE_PREFIX]) <= _TEXT_WIDTH
        and min(record.hold_time, record.fee_time, record.call_level, record.end_direction) >= 0
    ):  # nearly always: nothing to cut or clamp, so the row is the record re-sliced
        return (
            server_id,
            record.natural_key,
            record[_FLOW_NO],
            *texts,
            adapt(record[_START]),
            adapt(record[_STOP]),
            *counts,
        )
    return (
        server_id,
        record.natural_key,
        record.flow_no,
        *(text[:_TEXT_WIDTH] for text in texts),
        adapt(record.start),
        adapt(record.stop),
        max(0, record.hold_time),
        max(0, record.fee_time),
        # Decimal: both drivers store it as the ORM does (SQLite via Django's adapter).
        record.fee,
        record.fee_prefix[:_TEXT_WIDTH],
        max(0, record.call_level),
        max(0, record.end_direction),
        record.end_reason,
    )


def _first_of_each_key(values: Iterable[tuple]) -> list[tuple]:
    """A key twice in one answer is one call: its first copy is kept (and counted once)."""
    unique: dict[str, tuple] = {}
    for row in values:
        unique.setdefault(row[1], row)
    return list(unique.values())


def _unchanged(value: Any) -> Any:
    return value


def _sqlite_utc_text(moment: datetime) -> Any:
    """The text Django's SQLite adapter stores for ``moment`` on a connection in UTC
    (``str()`` of the naive UTC time: 'YYYY-MM-DD HH:MM:SS[.ffffff]'), without its
    per-call settings and zone lookups. Decoded times are in UTC already."""
    if moment.tzinfo is UTC:
        return str(moment)[:-6]  # without "+00:00"
    return connection.ops.adapt_datetimefield_value(moment)


def _datetime_adapter() -> Callable[[datetime], Any]:
    """How this connection takes a DateTimeField value in raw SQL, as the ORM stores it."""
    if connection.vendor == "postgresql":
        return _unchanged  # psycopg adapts the aware datetime itself
    if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is UTC:
        return _sqlite_utc_text
    return connection.ops.adapt_datetimefield_value


def _sql_names(model, fields: Sequence[str]) -> tuple[str, str]:
    """The quoted table and comma-separated column names of ``fields``."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    return quote(model._meta.db_table), columns


def _cdrs_insert(cursor, values: list[tuple]) -> int:
    """SQLite: the rows straight into the call table, skipping stored keys, then the rows
    just inserted (ids above the largest before the insert) added to the rollups; returns
    rows added.

    The transaction holds SQLite's one write lock from its BEGIN (``transaction_mode``
    IMMEDIATE in the settings), so no other writer adds a row between reading the largest
    id and the insert; under a deferred BEGIN, a writer in between makes the insert fail
    with SQLITE_BUSY instead of being counted. Ids only grow (AUTOINCREMENT).
    """
    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    placeholders = ", ".join(["%s"] * len(_CDR_FIELDS))
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}", [])
    (before,) = cursor.fetchone()
    cursor.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING", values
    )
    cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE id > %s", [before])
    (added,) = cursor.fetchone()
    if added:
        cursor.execute(rollup_upsert_sql(table, "id > %s"), [before])
    return added


def _cdrs_copy(cursor, values: list[tuple]) -> int:
    """PostgreSQL: COPY the rows into a scratch table, then one statement inserting them
    (skipping stored keys) and adding the rows it inserted to the rollups. Returns rows added.
    """
    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    cursor.execute(
        f"CREATE TEMPORARY TABLE cdr_incoming ON COMMIT DROP AS "
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    with cursor.copy(f"COPY cdr_incoming ({columns}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    # Data-modifying CTEs run to completion whether read or not; RETURNING gives exactly the
    # rows inserted (ON CONFLICT DO NOTHING without a target: on the partitioned table the
    # key's unique index also holds the partition key, docs/PERFORMANCE.md).
    cursor.execute(
        f"WITH added AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM cdr_incoming "
        "ON CONFLICT DO NOTHING RETURNING server_id, account, start, hold_time, fee_time, fee), "
        f"rolled AS ({rollup_upsert_sql('added')} RETURNING 1) "
        "SELECT COUNT(*) FROM added"
    )
    added = cursor.fetchone()[0]
    # ON COMMIT DROP alone would keep it until an enclosing transaction ends.
    cursor.execute("DROP TABLE cdr_incoming")
    return added


def _cdrs_insert_fallback(server: VosServer, values: list[tuple]) -> int:
    """Other backends: the ORM's conflict-ignoring bulk insert, counted by key."""
    keys = [v[1] for v in values]
    stored = Cdr.objects.filter(server=server, natural_key__in=keys)
    before = stored.count()
    fields = ("server_id", *_CDR_FIELDS[1:])
    Cdr.objects.bulk_create(
        [Cdr(**dict(zip(fields, v, strict=True))) for v in values], ignore_conflicts=True
    )
    added = stored.count() - before
    if added:
        starts = [v[13] for v in values]
        rollups_touch(server_id=server.pk, since=min(starts), until=max(starts))
    return added


def _last_calls_update(cursor, server: VosServer, latest: dict[str, datetime]) -> None:
    """Move each account's last_call_at on to its latest call, never back."""
    table, _ = _sql_names(VosAccount, ())
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    column = quote("last_call_at")
    cursor.executemany(
        f"UPDATE {table} SET {column} = %s WHERE {quote('server_id')} = %s "
        f"AND {quote('account')} = %s AND ({column} IS NULL OR {column} < %s)",
        [(adapt(moment), server.pk, account, adapt(moment)) for account, moment in latest.items()],
    )


def _sqlite_bulk_pragmas() -> None:
    """For this connection (the worker's, kept across jobs): a 32 MB page cache and a WAL
    checkpoint every 32 MB instead of 4 MB, so a batch that writes five indexes and the
    rollups touches each page fewer times (docs/PERFORMANCE.md). Pages keep the defaults."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size = -32768")
        cursor.execute("PRAGMA wal_autocheckpoint = 8192")


def retention_cutoff(now: datetime | None = None) -> datetime:
    """Calls that started before this are past the retention (CDR_RETENTION_DAYS)."""
    return (now or timezone.now()) - timedelta(days=settings.CDR_RETENTION_DAYS)


def cdrs_store(*, server: VosServer, records: Iterable[CdrRecord]) -> int:
    """Insert the records not stored yet (by natural key); returns how many were new.

    Rows go to the database as plain tuples, CDR_INSERT_BATCH to a transaction; the database
    skips keys already stored (ON CONFLICT DO NOTHING), so overlapping runs cannot fail or
    duplicate, and the count of rows added comes from the insert itself. Each batch adds
    the rows it inserted (and only those) to the rollups and moves
    ``VosAccount.last_call_at`` on, in the same transaction.
    """
    raw_sql = connection.vendor in _ON_CONFLICT_VENDORS
    # SQLite keeps datetimes as Django's UTC text; PostgreSQL takes the aware datetime.
    adapt = _datetime_adapter() if raw_sql else _unchanged
    # Calls older than the retention are not stored: their rows may be gone while their
    # rollups are kept, so storing them again would count them twice.
    cutoff = retention_cutoff()
    if connection.vendor == "sqlite":
        _sqlite_bulk_pragmas()
    added = 0
    for batch in chunked([r for r in records if r.start >= cutoff], CDR_INSERT_BATCH):
        values = _first_of_each_key(_cdr_values(server.pk, record, adapt) for record in batch)
        latest: dict[str, datetime] = {}
        for record in batch:
            account = record.account[:64]
            if account not in latest or latest[account] < record.start:
                latest[account] = record.start
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                rows = _cdrs_copy(cursor, values)
            elif raw_sql:
                rows = _cdrs_insert(cursor, values)
            else:
                rows = _cdrs_insert_fallback(server, values)
            if rows:
                _last_calls_update(cursor, server, latest)
        added += rows
    return added
