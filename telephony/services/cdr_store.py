"""Storing call records: plain rows by natural key (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
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


# CdrRecord is a named tuple whose fields are in _CDR_FIELDS' order but for flow_no (last
# there): a row is the record re-sliced. Its text columns are CharField(max_length=64).
_FIELD = CdrRecord._fields.index
_TEXTS = slice(_FIELD("account"), _FIELD("callee_ip") + 1)
_START, _STOP, _FLOW_NO = _FIELD("start"), _FIELD("stop"), _FIELD("flow_no")
_COUNTS = slice(_FIELD("hold_time"), _FIELD("end_reason") + 1)  # hold_time .. end_reason
_TEXT_NAMES = (*CdrRecord._fields[_TEXTS], "fee_prefix")
_NOT_NEGATIVE = ("hold_time", "fee_time", "call_level", "end_direction")
_texts_of, _not_negative_of = attrgetter(*_TEXT_NAMES), attrgetter(*_NOT_NEGATIVE)
_TEXT_WIDTH = 64


def _fitted(record: CdrRecord) -> CdrRecord:
    """The record with its texts cut to their columns and its counts at least 0."""
    if max(map(len, _texts_of(record))) <= _TEXT_WIDTH and min(_not_negative_of(record)) >= 0:
        return record  # nearly always: nothing to cut or clamp
    cut = {name: getattr(record, name)[:_TEXT_WIDTH] for name in _TEXT_NAMES}
    clamped = {name: max(0, getattr(record, name)) for name in _NOT_NEGATIVE}
    return record._replace(**cut, **clamped)


def _cdr_values(server_id: int, record: CdrRecord, adapt: Callable[[datetime], Any]) -> tuple:
    """One record as Cdr column values, in the order of _CDR_FIELDS (the fee a Decimal: both
    drivers store it as the ORM does). The key is the record's as VOS sent it."""
    key = record.natural_key
    row = _fitted(record)
    return (
        server_id,
        key,
        row[_FLOW_NO],
        *row[_TEXTS],
        adapt(row[_START]),
        adapt(row[_STOP]),
        *row[_COUNTS],
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
    added = cursor.rowcount  # sqlite3 sums an executemany's changes; a skipped key adds none
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
