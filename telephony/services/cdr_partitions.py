"""PostgreSQL: the call-record table partitioned by month (declarative, on ``start``).

Partitions are named ``telephony_cdr_pYYYYMM`` and hold [the 1st of the month, the 1st of
the next) in UTC; ``telephony_cdr_default`` takes anything outside them (a far-off date from
a misbehaving switch), and a month created later takes its rows out of it. The periodic
``telephony.tasks.cdr_partitions`` creates the months ahead; retention drops whole months
(``partitions_drop_before``). SQLite keeps one table and every function here is a no-op
there (docs/PERFORMANCE.md, "Partitions").
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone

from ..models import Cdr

log = logging.getLogger(__name__)

MONTHS_AHEAD = 3
DEFAULT_PARTITION = "telephony_cdr_default"
_NAME = re.compile(r"^telephony_cdr_p(\d{4})(\d{2})$")


def month_first(moment: datetime | date) -> date:
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"telephony_cdr_p{month:%Y%m}"


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def is_partitioned() -> bool:
    """Whether the call-record table is a partitioned table (PostgreSQL after migration 0005)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [Cdr._meta.db_table]
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partition_months() -> list[date]:
    """The months that have a partition, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [Cdr._meta.db_table],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = _NAME.match(name)
        if match:
            months.append(date(int(match[1]), int(match[2]), 1))
    return sorted(months)


def _partition_create(cursor, month: date) -> None:
    """One month's partition; rows of that month already in the default partition move in."""
    parent = connection.ops.quote_name(Cdr._meta.db_table)
    name = connection.ops.quote_name(partition_name(month))
    lo, hi = _bound(month), _bound(month_after(month))
    default = connection.ops.quote_name(DEFAULT_PARTITION)
    cursor.execute(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {default} WHERE start >= %s AND start < %s RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        [lo, hi],
    )
    cursor.execute(
        f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [lo, hi]
    )


def partitions_ensure(
    *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD, first: date | None = None
) -> list[str]:
    """Create the partitions of ``first`` (default: this month) to ``months_ahead`` months
    ahead that do not exist yet; returns their names. Safe to run twice."""
    if not is_partitioned():
        return []
    month = month_first(first or now or timezone.now())
    last = month_first(now or timezone.now())
    for _ in range(months_ahead):
        last = month_after(last)
    have = set(partition_months())
    created = []
    while month <= last:
        if month not in have:
            with transaction.atomic(), connection.cursor() as cursor:
                _partition_create(cursor, month)
            created.append(partition_name(month))
            log.info("created call-record partition %s", partition_name(month))
        month = month_after(month)
    return created


def partitions_drop_before(*, before: datetime) -> int:
    """Drop the months that ended by ``before``, and delete the default partition's rows that
    started before it; returns the rows removed. The month ``before`` falls in stays whole."""
    removed = 0
    cutoff = month_first(before)
    with connection.cursor() as cursor:
        for month in partition_months():
            if month >= cutoff:
                break
            name = connection.ops.quote_name(partition_name(month))
            with transaction.atomic():
                cursor.execute(f"SELECT COUNT(*) FROM {name}")
                removed += cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE {name}")
            log.info("dropped call-record partition %s", partition_name(month))
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(DEFAULT_PARTITION)} WHERE start < %s",
            [before],
        )
        removed += cursor.rowcount
    return removed
