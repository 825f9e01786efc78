"""The call history as CSV rows, formatted by the database (no Python object per row).

The start time in the user's zone, the money as text and the labels of the hang-up side
and end reason come out of the query itself; rows are read through a server-side cursor on
PostgreSQL (a chunked cursor elsewhere), so a row costs what a bare cursor costs plus a
one-character check on each number (``csvsafe.csv_cell`` for the few that need it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo

from django.db import connection
from django.db.models import QuerySet

from .csvsafe import csv_cell
from .models import Cdr
from .selectors import CSV_COLUMNS
from .timezones import sqlite_local_time

EXPORT_CHUNK = 2000
# First characters a spreadsheet may read as a formula (csvsafe.csv_cell decides).
_RISKY = frozenset("=@\t\r+-")


def _labels(column: str, labels: Mapping[int, str]) -> tuple[str, list]:
    """CASE mapping a code column to its label; any other code as its digits."""
    if not labels:
        return f"CAST({column} AS TEXT)", []
    whens = " ".join("WHEN %s THEN %s" for _ in labels)
    params = [part for code, label in labels.items() for part in (code, label)]
    return f"CASE {column} {whens} ELSE CAST({column} AS TEXT) END", params


def _select(tz: tzinfo, start: datetime, end: datetime, sides, reasons) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        moment = "to_char(start AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS')"
        moment_params: list = [str(tz)]
        fee = "CAST(fee AS TEXT)"
    else:
        moment, moment_params = sqlite_local_time("start", tz, start, end)
        fee = "printf('%%.4f', fee)"
    side, side_params = _labels("end_direction", sides)
    reason, reason_params = _labels("end_reason", reasons)
    sql = f"SELECT {moment}, caller_e164, callee_e164, hold_time, fee_time, {fee}, {side}, {reason}"
    return sql, [*moment_params, *side_params, *reason_params]


def _safe(rows: list[tuple]) -> list[tuple]:
    out = []
    for row in rows:
        if row[1][:1] in _RISKY or row[2][:1] in _RISKY:
            row = (row[0], csv_cell(row[1]), csv_cell(row[2]), *row[3:])
        out.append(row)
    return out


def calls_export_rows(
    calls: QuerySet[Cdr],
    *,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    sides: Mapping[int, str],
    reasons: Mapping[int, str],
) -> Iterator[list[tuple]]:
    """Chunks of CSV-ready tuples of ``calls`` (newest first): local start, caller, callee,
    seconds, billed seconds, cost, hang-up side, end reason. ``start``/``end`` bound the
    moments (for the zone's offsets)."""
    inner = calls.order_by("-start", "-id").values_list(*CSV_COLUMNS, "id")
    inner_sql, inner_params = inner.query.sql_with_params()
    select, params = _select(tz, start, end, sides, reasons)
    sql = f"{select} FROM ({inner_sql}) AS calls_ ORDER BY start DESC, id DESC"
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        while rows := cursor.fetchmany(EXPORT_CHUNK):
            yield _safe(rows)
