"""Storing call records: plain rows by natural key (COPY on PostgreSQL, executemany elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from ..models import Cdr, VosAccount, VosServer
from ..vos import CdrRecord, chunked

CDR_INSERT_BATCH = 5000


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


def _cdr_values(server_id: int, record: CdrRecord, adapt: Callable[[datetime], Any]) -> tuple:
    """One record as Cdr column values, in the order of _CDR_FIELDS."""
    return (
        server_id,
        record.natural_key,
        record.flow_no,
        record.account[:64],
        record.agent_account[:64],
        record.caller_e164[:64],
        record.caller_access_e164[:64],
        record.callee_e164[:64],
        record.callee_access_e164[:64],
        record.caller_gateway[:64],
        record.callee_gateway[:64],
        record.caller_ip[:64],
        record.callee_ip[:64],
        adapt(record.start),
        adapt(record.stop),
        max(0, record.hold_time),
        max(0, record.fee_time),
        # Decimal: both drivers store it as the ORM does (SQLite via Django's adapter).
        record.fee,
        record.fee_prefix[:64],
        max(0, record.call_level),
        max(0, record.end_direction),
        record.end_reason,
    )


def _unchanged(value: Any) -> Any:
    return value


def _sql_names(model, fields: Sequence[str]) -> tuple[str, str]:
    """The quoted table and comma-separated column names of ``fields``."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    return quote(model._meta.db_table), columns


def _cdrs_insert(cursor, values: list[tuple]) -> int:
    """Insert rows (ignoring stored keys) with one statement per row; returns rows added."""
    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    placeholders = ", ".join(["%s"] * len(_CDR_FIELDS))
    key = _sql_names(Cdr, ("server", "natural_key"))[1]
    cursor.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT ({key}) DO NOTHING",
        values,
    )
    # Both drivers sum the rows each execution changed; a skipped conflict changes none.
    return cursor.rowcount


def _cdrs_copy(cursor, values: list[tuple]) -> int:
    """PostgreSQL: COPY the rows into a scratch table, then one INSERT ... SELECT skipping
    stored keys; far cheaper than a statement a row. Returns rows added."""
    table, columns = _sql_names(Cdr, _CDR_FIELDS)
    key = _sql_names(Cdr, ("server", "natural_key"))[1]
    cursor.execute(
        f"CREATE TEMPORARY TABLE cdr_incoming ON COMMIT DROP AS "
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    with cursor.copy(f"COPY cdr_incoming ({columns}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM cdr_incoming "
        f"ON CONFLICT ({key}) DO NOTHING"
    )
    added = cursor.rowcount
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
    return stored.count() - before


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


def cdrs_store(*, server: VosServer, records: Iterable[CdrRecord]) -> int:
    """Insert the records not stored yet (by natural key); returns how many were new.

    Rows go to the database as plain tuples, CDR_INSERT_BATCH to a transaction; the database
    skips keys already stored (ON CONFLICT DO NOTHING), so overlapping runs cannot fail or
    duplicate, and the count of rows added comes from the insert itself. Each batch moves
    ``VosAccount.last_call_at`` on in the same transaction.
    """
    raw_sql = connection.vendor in _ON_CONFLICT_VENDORS
    # SQLite keeps datetimes as Django's UTC text; PostgreSQL takes the aware datetime.
    adapt = connection.ops.adapt_datetimefield_value if raw_sql else _unchanged
    added = 0
    for batch in chunked(list(records), CDR_INSERT_BATCH):
        values = [_cdr_values(server.pk, record, adapt) for record in batch]
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
