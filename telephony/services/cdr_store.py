"""Storing call records: plain rows by natural key (COPY on PostgreSQL, many-row INSERTs on
SQLite, the ORM elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain, repeat
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Cdr, VosAccount, VosServer
from ..vos import CdrRecord, chunked
from .cdr_rollups import rollup_upsert_sql, rollups_touch

# Rows a transaction: one GetCdr answer of 100 accounts for a week is about 11,000.
CDR_INSERT_BATCH = 20000
# SQLite: rows an INSERT statement at most (each row is 32 parameters).
SQLITE_ROWS_PER_STATEMENT = 2048


# Cdr fields written by `cdrs_store`, in the order of a row of `_cdr_rows`: a CdrRecord's
# fields in its own order (its text columns are CharField(max_length=64)), then the key and
# the server, so that a row is the record with two values added.
_CDR_FIELDS = (*CdrRecord._fields, "natural_key", "server")
# Backends whose INSERT takes ON CONFLICT (...) DO NOTHING (SQLite >= 3.24, PostgreSQL).
_ON_CONFLICT_VENDORS = {"sqlite", "postgresql"}
_ROW_ACCOUNT, _ROW_START = _CDR_FIELDS.index("account"), _CDR_FIELDS.index("start")
_KEY = _CDR_FIELDS.index("natural_key")

_FIELD = CdrRecord._fields.index
_START, _STOP = _FIELD("start"), _FIELD("stop")
_TEXT_NAMES = (*CdrRecord._fields[_FIELD("account") : _FIELD("callee_ip") + 1], "fee_prefix")
_NOT_NEGATIVE = ("hold_time", "fee_time", "call_level", "end_direction")
_texts_of, _not_negative_of = attrgetter(*_TEXT_NAMES), attrgetter(*_NOT_NEGATIVE)
_TEXT_WIDTH = 64


def _all_fit(records: Sequence[CdrRecord]) -> bool:
    """Whether no record of ``records`` has a text longer than its column or a negative
    count: nearly always. Checked for the batch at once (C loops, no call a record)."""
    texts = chain.from_iterable(map(_texts_of, records))
    counts = chain.from_iterable(map(_not_negative_of, records))
    return max(map(len, texts), default=0) <= _TEXT_WIDTH and min(counts, default=0) >= 0


def _fitted(record: CdrRecord) -> CdrRecord:
    """The record with its texts cut to their columns and its counts at least 0."""
    cut = {name: getattr(record, name)[:_TEXT_WIDTH] for name in _TEXT_NAMES}
    clamped = {name: max(0, getattr(record, name)) for name in _NOT_NEGATIVE}
    return record._replace(**cut, **clamped)


def _cdr_rows(
    server_id: int,
    records: Sequence[CdrRecord],
    adapt: Callable[[Sequence[datetime]], Sequence[Any]],
) -> list[tuple]:
    """The records as Cdr column values, in the order of _CDR_FIELDS (the fee a Decimal: both
    drivers store it as the ORM does). The key is each record's as VOS sent it. ``adapt``
    turns a column of times into what the connection stores (`_datetime_adapter`)."""
    keys = [record.natural_key for record in records]
    if not _all_fit(records):
        records = [_fitted(record) for record in records]
    if adapt is _unchanged:
        return [(*record, key, server_id) for record, key in zip(records, keys, strict=True)]
    if not records:
        return []
    # Column by column: the times of the batch adapted at once, the rows zipped back in C.
    columns: list[Sequence[Any]] = list(zip(*records, strict=True))
    columns[_START], columns[_STOP] = adapt(columns[_START]), adapt(columns[_STOP])
    return list(zip(*columns, keys, repeat(server_id, len(keys)), strict=True))


def _first_of_each_key(values: list[tuple]) -> list[tuple]:
    """A key twice in one answer is one call: its first copy is kept (and counted once)."""
    if len(set(map(itemgetter(_KEY), values))) == len(values):
        return values  # nearly always
    unique: dict[str, tuple] = {}
    for row in values:
        unique.setdefault(row[_KEY], row)
    return list(unique.values())


def _unchanged(values: Any) -> Any:
    return values


_tzinfo_of = attrgetter("tzinfo")
_without_utc_offset = methodcaller("removesuffix", "+00:00")


def _sqlite_utc_texts(moments: Sequence[datetime]) -> list[Any]:
    """The texts Django's SQLite adapter stores for ``moments`` on a connection in UTC
    (``str()`` of the naive UTC time: 'YYYY-MM-DD HH:MM:SS[.ffffff]'), without its per-value
    settings and zone lookups: for a column of decoded times, all in UTC already, in C-level
    passes with no Python call a value."""
    if set(map(_tzinfo_of, moments)) == {UTC}:
        return list(map(_without_utc_offset, map(str, moments)))
    return _adapted_each(moments)


def _adapted_each(moments: Sequence[datetime]) -> list[Any]:
    """Each of ``moments`` through Django's own adapter."""
    return list(map(connection.ops.adapt_datetimefield_value, moments))


def _datetime_adapter() -> Callable[[Sequence[datetime]], Sequence[Any]]:
    """How this connection takes a column of DateTimeField values in raw SQL, as the ORM
    stores each."""
    if connection.vendor == "postgresql":
        return _unchanged  # psycopg adapts the aware datetime itself
    if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is UTC:
        return _sqlite_utc_texts
    return _adapted_each


def _sql_names(model, fields: Sequence[str]) -> tuple[str, str]:
    """The quoted table and comma-separated column names of ``fields``."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    return quote(model._meta.db_table), columns


def _last_calls_sql(source: str, where: str = "TRUE") -> str:
    """UPDATE moving each account's last_call_at on to its latest call in ``source`` (Cdr's
    columns, filtered by ``where``), never back; one parameter, the server's id."""
    quote = connection.ops.quote_name
    table = quote(VosAccount._meta.db_table)
    column = quote("last_call_at")
    return (
        f"UPDATE {table} SET {column} = latest.start FROM "
        f"(SELECT account, MAX(start) AS start FROM {source} WHERE {where} GROUP BY account) "
        f"AS latest WHERE {table}.server_id = %s AND {table}.account = latest.account "
        f"AND ({table}.{column} IS NULL OR {table}.{column} < latest.start)"
    )


@lru_cache(maxsize=16)
def _sqlite_insert_sql(table: str, columns: str, rows: int) -> str:
    """INSERT of ``rows`` rows of _CDR_FIELDS, skipping stored keys, in qmark style."""
    row = "(" + ",".join("?" * len(_CDR_FIELDS)) + ")"
    return f"INSERT INTO {table} ({columns}) VALUES {','.join([row] * rows)} ON CONFLICT DO NOTHING"


def _sqlite_rollup_sql(table: str) -> str:
    """The rollups' upsert of the rows with ids above its one parameter. NOT INDEXED: they are
    read by the range of their ids (the rowid). Left to itself, SQLite's planner reads the
    whole covering index (server, account, -start) instead, to group by account without a
    sort: every stored call, for each batch (docs/PERFORMANCE.md, "tenth round")."""
    return rollup_upsert_sql(f"{table} NOT INDEXED", "id > %s")


def _sqlite_statement_sizes(count: int) -> list[int]:
    """Rows a statement for ``count`` rows: as many as fit SQLITE_ROWS_PER_STATEMENT and this
    connection's parameter limit (32,766 since SQLite 3.32, more where it was built so),
    always a power of two, so that the statements sqlite3 keeps prepared (one per distinct
    text, up to 128, each a few MB at this size) are a dozen, whatever the batches' sizes."""
    import sqlite3

    getlimit = getattr(connection.connection, "getlimit", None)
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    most = min(limit // len(_CDR_FIELDS), SQLITE_ROWS_PER_STATEMENT)
    most = 1 << max(0, most.bit_length() - 1)
    sizes = [most] * (count // most)
    rest = count % most
    sizes += [1 << bit for bit in reversed(range(rest.bit_length())) if rest >> bit & 1]
    return sizes


def _cdrs_insert(cursor, server_id: int, values: list[tuple]) -> int:
    """SQLite: the rows straight into the call table, skipping stored keys, then the rows
    just inserted (ids above the largest before the insert) added to the rollups and to their
    accounts' last_call_at; returns rows added.

    The transaction holds SQLite's one write lock from its BEGIN (``transaction_mode``
    IMMEDIATE in the settings), so no other writer adds a row between reading the largest
    id and the insert; under a deferred BEGIN, a writer in between makes the insert fail
    with SQLITE_BUSY instead of being counted. Ids only grow (AUTOINCREMENT).
    """
    import sqlite3

    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}", [])
    (before,) = cursor.fetchone()
    added = start = 0
    # Many rows a statement, not executemany: sqlite3 frees and takes the GIL again around
    # each statement's step, and with the fetching thread busy beside it each take waits
    # for that thread's turn to end (docs/PERFORMANCE.md, "eighth round"). The statements
    # are in sqlite3's own qmark style and go to its cursor directly: Django's wrapper
    # would rewrite each of their 65,536 placeholders on every call.
    with connection.wrap_database_errors:
        for size in _sqlite_statement_sizes(len(values)):
            params = list(chain.from_iterable(values[start : start + size]))
            sqlite3.Cursor.execute(cursor.cursor, _sqlite_insert_sql(table, columns, size), params)
            start += size
            added += cursor.cursor.rowcount  # rows it inserted; a skipped key adds none
    if added:
        cursor.execute(_sqlite_rollup_sql(table), [before])
        cursor.execute(_last_calls_sql(table, "id > %s"), [before, server_id])
    return added


def _cdrs_copy(cursor, server_id: int, values: list[tuple]) -> int:
    """PostgreSQL: COPY the rows into a scratch table, then one statement inserting them
    (skipping stored keys) and adding the rows it inserted to the rollups and to their
    accounts' last_call_at. Returns rows added.
    """
    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    cursor.execute(
        f"CREATE TEMPORARY TABLE cdr_incoming ON COMMIT DROP AS "
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    # Binary COPY: no text to format or parse for the times, numbers and the fee; its
    # column types are the scratch table's own, as the server reports them.
    cursor.execute(f"SELECT {columns} FROM cdr_incoming LIMIT 0")
    types = [column.type_code for column in cursor.description]
    with cursor.copy(f"COPY cdr_incoming ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in values:
            copy.write_row(row)
    # Data-modifying CTEs run to completion whether read or not; RETURNING gives exactly the
    # rows inserted (ON CONFLICT DO NOTHING without a target: on the partitioned table the
    # key's unique index also holds the partition key, docs/PERFORMANCE.md).
    cursor.execute(
        f"WITH added AS (INSERT INTO {table} ({columns}) SELECT {columns} FROM cdr_incoming "
        "ON CONFLICT DO NOTHING RETURNING server_id, account, start, hold_time, fee_time, fee), "
        f"rolled AS ({rollup_upsert_sql('added')} RETURNING 1), "
        f"moved AS ({_last_calls_sql('added')} RETURNING 1) "
        "SELECT COUNT(*) FROM added",
        [server_id],
    )
    added = cursor.fetchone()[0]
    # ON COMMIT DROP alone would keep it until an enclosing transaction ends.
    cursor.execute("DROP TABLE cdr_incoming")
    return added


def _cdrs_insert_fallback(server: VosServer, values: list[tuple]) -> int:
    """Other backends: the ORM's conflict-ignoring bulk insert, counted by key."""
    keys = [v[_KEY] for v in values]
    stored = Cdr.objects.filter(server=server, natural_key__in=keys)
    before = stored.count()
    fields = (*_CDR_FIELDS[:-1], "server_id")
    Cdr.objects.bulk_create(
        [Cdr(**dict(zip(fields, v, strict=True))) for v in values], ignore_conflicts=True
    )
    added = stored.count() - before
    if added:
        starts = [v[_ROW_START] for v in values]
        rollups_touch(server_id=server.pk, since=min(starts), until=max(starts))
        _last_calls_update(server, values)
    return added


def _last_calls_update(server: VosServer, values: list[tuple]) -> None:
    """Other backends: move each account's last_call_at on to its latest call, never back."""
    latest: dict[str, datetime] = {}
    for row in values:
        account, start = row[_ROW_ACCOUNT], row[_ROW_START]
        if account not in latest or latest[account] < start:
            latest[account] = start
    for account, start in latest.items():
        VosAccount.objects.filter(server=server, account=account).filter(
            Q(last_call_at__isnull=True) | Q(last_call_at__lt=start)
        ).update(last_call_at=start)


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
        values = _first_of_each_key(_cdr_rows(server.pk, batch, adapt))
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                rows = _cdrs_copy(cursor, server.pk, values)
            elif raw_sql:
                rows = _cdrs_insert(cursor, server.pk, values)
            else:
                rows = _cdrs_insert_fallback(server, values)
        added += rows
    return added
