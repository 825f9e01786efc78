"""Local dates and times in SQL: a zone's UTC offsets over a range, applied by the database.

SQLite has no time zones, and Django converts every row there in a Python function. These
shift each moment by the zone's UTC offset at that moment (utc_offset_pieces) with SQLite's
own date()/strftime() instead: the same results, computed in C.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from django.db import connection
from django.db.models.functions import TruncDate


def utc_offset_pieces(
    tz: tzinfo, start: datetime, end: datetime
) -> tuple[tuple[datetime, int], ...]:
    """The zone's UTC offset over [start, end) as pieces ``(until, offset in seconds)``.

    A moment ``t`` belongs to the first piece whose ``until`` is later than ``t`` (the last
    piece runs to ``end``); its local date is the UTC date of ``t + offset``. One piece when
    the zone does not change its offset in the range, one more per change (summer time).
    """
    return _offset_pieces(tz, start.astimezone(UTC), end.astimezone(UTC))


@lru_cache(maxsize=512)
def _offset_pieces(tz: tzinfo, start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...]:
    def offset(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    # Zones change their offset at most a few times a year and never twice within an hour:
    # look every hour, then find the exact second of each change by bisection.
    pieces = []
    current = offset(start)
    here = start
    while here < end:
        there = min(here + timedelta(hours=1), end)
        if offset(there) == current:
            here = there
            continue
        lo, hi = math.floor(here.timestamp()), math.ceil(there.timestamp())
        while hi - lo > 1:  # the change is in (lo, hi]
            middle = (lo + hi) // 2
            if offset(datetime.fromtimestamp(middle, UTC)) == current:
                lo = middle
            else:
                hi = middle
        change = datetime.fromtimestamp(hi, UTC)
        if change >= end:
            break
        pieces.append((change, current))
        current = offset(change)
        here = change
    pieces.append((end, current))
    return tuple(pieces)


def _shift(seconds: int) -> str:
    return f"{seconds:+d} seconds"


class LocalDate(TruncDate):
    """``TruncDate(expression, tzinfo=tz)`` for moments in [start, end).

    SQLite has no time zones, and Django converts every row there in a Python function (most
    of the dashboard's time with a month of calls). This shifts each moment by the zone's
    UTC offset at that moment (utc_offset_pieces) with SQLite's own date() instead: the same
    dates, computed in C. Other databases convert in SQL already and keep TruncDate's SQL.
    """

    def __init__(self, expression, *, tzinfo: tzinfo, start: datetime, end: datetime, **extra):
        self.pieces = utc_offset_pieces(tzinfo, start, end)
        super().__init__(expression, tzinfo=tzinfo, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        *changes, (_, offset) = self.pieces
        # Whole seconds: the offsets are whole seconds, and date() rounds a fraction.
        moment, moment_params = f"substr({sql}, 1, 19)", list(params)
        if not changes:
            return f"date({moment}, %s)", (*moment_params, _shift(offset))
        whens, when_params = [], []
        for until, before in changes:
            whens.append(f"WHEN {sql} < %s THEN %s")
            when_params += [
                *params,
                connection.ops.adapt_datetimefield_value(until),
                _shift(before),
            ]
        return (
            f"date({moment}, CASE {' '.join(whens)} ELSE %s END)",
            (*moment_params, *when_params, _shift(offset)),
        )


def sqlite_local_time(column: str, tz: tzinfo, start: datetime, end: datetime) -> tuple:
    """SQLite SQL (and its parameters) for ``column``'s moment as local "YYYY-MM-DD HH:MM:SS"
    text in ``tz``, for moments in [start, end). Run with parameters (``%%`` is ``%``)."""
    *changes, (_, offset) = utc_offset_pieces(tz, start, end)
    moment = f"substr({column}, 1, 19)"
    shape = "'%%Y-%%m-%%d %%H:%%M:%%S'"
    if not changes:
        return f"strftime({shape}, {moment}, %s)", [_shift(offset)]
    whens, params = [], []
    for until, before in changes:
        whens.append(f"WHEN {column} < %s THEN %s")
        params += [connection.ops.adapt_datetimefield_value(until), _shift(before)]
    return (
        f"strftime({shape}, {moment}, CASE {' '.join(whens)} ELSE %s END)",
        [*params, _shift(offset)],
    )
