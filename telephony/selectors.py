"""Reads of the local call-record store (never VOS): the calls page, its totals and CSV export.

Every query is bounded by (server, account, start range) so it runs on the
`cdr_account_start` index however many CDRs the store holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from .models import Cdr, CdrRollup, SyncState, VosAccount, VosServer
from .services.cdr_rollups import bucket_ceil, bucket_floor

ANSWERED = "answered"
UNANSWERED = "unanswered"
PREFIX = "prefix"
CONTAINS = "contains"
PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_bounds(first: date, last: date, tz) -> tuple[datetime, datetime]:
    """[start of ``first``, start of the day after ``last``) as aware datetimes in ``tz``."""
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return start, end


def calls_for(
    vos_account: VosAccount,
    *,
    start: datetime,
    end: datetime,
    search: str = "",
    match: str = PREFIX,
    outcome: str = "",
) -> QuerySet[Cdr]:
    """One account's calls that started in [start, end), optionally narrowed.

    ``search`` matches the caller or the callee number, as a prefix or anywhere (``match``);
    ``outcome`` is "answered", "unanswered" or "" for both.
    """
    calls = Cdr.objects.filter(
        server_id=vos_account.server_id,
        account=vos_account.account,
        start__gte=start,
        start__lt=end,
    )
    if search:
        calls = calls.filter(
            _number_q("caller_e164", search, match) | _number_q("callee_e164", search, match)
        )
    if outcome == ANSWERED:
        calls = calls.filter(hold_time__gt=0)
    elif outcome == UNANSWERED:
        calls = calls.filter(hold_time=0)
    return calls


def _number_q(field: str, search: str, match: str) -> Q:
    """A number match on ``field``; a prefix is read from its index on both databases.

    PostgreSQL's LIKE 'x%' uses the varchar_pattern_ops index (cdr_caller_prefix, ...).
    SQLite's LIKE is case-insensitive and never uses a BINARY index, so there the prefix is
    also given as the range [x, x with its last character's successor), which is exactly the
    strings starting with x in SQLite's byte order; LIKE stays for the exact match.
    """
    if match == CONTAINS:
        return Q(**{f"{field}__contains": search})
    condition = Q(**{f"{field}__startswith": search})
    if connection.vendor == "sqlite":
        after = search[:-1] + chr(ord(search[-1]) + 1)
        condition &= Q(**{f"{field}__gte": search, f"{field}__lt": after})
    return condition


@dataclass(frozen=True)
class CallTotals:
    calls: int
    answered: int
    talk_seconds: int
    billed_seconds: int
    cost: Decimal

    @property
    def billed_minutes(self) -> Decimal:
        return (Decimal(self.billed_seconds) / 60).quantize(Decimal("0.1"))

    def __add__(self, other: CallTotals) -> CallTotals:
        return CallTotals(
            calls=self.calls + other.calls,
            answered=self.answered + other.answered,
            talk_seconds=self.talk_seconds + other.talk_seconds,
            billed_seconds=self.billed_seconds + other.billed_seconds,
            cost=self.cost + other.cost,
        )


NO_CALLS = CallTotals(calls=0, answered=0, talk_seconds=0, billed_seconds=0, cost=Decimal("0"))


CENT_FRACTION = Decimal("0.0001")  # the money columns' four places (telephony.models.MONEY)


def money_sum(value) -> Decimal:
    """A SUM over a money column, to the column's four places: SQLite adds NUMERIC in
    floating point (0.1 + 0.2 = 0.30000000000000004), exact again at four places."""
    return (value or Decimal("0")).quantize(CENT_FRACTION)


def _raw_totals(calls: QuerySet[Cdr]) -> CallTotals:
    # Only columns of the covering index (cdr_account_start INCLUDE hold_time, fee_time, fee):
    # PostgreSQL then answers from the index alone. hold_time is never NULL, so counting it
    # counts rows.
    row = calls.aggregate(
        calls=Count("hold_time"),
        answered=Count("hold_time", filter=Q(hold_time__gt=0)),
        talk=Sum("hold_time"),
        billed=Sum("fee_time"),
        cost=Sum("fee"),
    )
    return _totals_of(row)


def _rollup_totals(vos_account: VosAccount, lo: datetime, hi: datetime) -> CallTotals:
    row = CdrRollup.objects.filter(
        server_id=vos_account.server_id, account=vos_account.account, bucket__gte=lo, bucket__lt=hi
    ).aggregate(
        calls=Sum("calls"),
        answered=Sum("answered"),
        talk=Sum("talk_seconds"),
        billed=Sum("billed_seconds"),
        cost=Sum("cost"),
    )
    return _totals_of(row)


def _totals_of(row: dict) -> CallTotals:
    """CallTotals of an aggregate with calls, answered, talk, billed and cost (None: 0)."""
    return CallTotals(
        calls=row["calls"] or 0,
        answered=row["answered"] or 0,
        talk_seconds=row["talk"] or 0,
        billed_seconds=row["billed"] or 0,
        cost=money_sum(row["cost"]),
    )


def whole_buckets(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole rollup buckets [lo, hi) inside [start, end) (lo == hi when there are none)."""
    lo, hi = bucket_ceil(start), bucket_floor(end)
    return (lo, hi) if lo < hi else (start, start)


def period_totals(vos_account: VosAccount, *, start: datetime, end: datetime) -> CallTotals:
    """Every call of [start, end): the whole quarter hours from the rollups, the partial
    edges (a range cut at "now", an odd offset) from the raw rows. Costs the same at any
    history size, and still adds up where retention dropped the raw rows."""
    if end <= start:
        return NO_CALLS
    lo, hi = whole_buckets(start, end)
    if lo == hi:
        return _raw_totals(calls_for(vos_account, start=start, end=end))
    totals = _rollup_totals(vos_account, lo, hi)
    if start < lo:
        totals += _raw_totals(calls_for(vos_account, start=start, end=lo))
    if hi < end:
        totals += _raw_totals(calls_for(vos_account, start=hi, end=end))
    return totals


def calls_totals(vos_account: VosAccount, **filters) -> CallTotals:
    """Totals over the same filter as :func:`calls_for`: a window without a number or
    outcome filter from the rollups (period_totals), a filtered one in one aggregate query
    over the raw rows."""
    if not filters.get("search") and not filters.get("outcome"):
        return period_totals(vos_account, start=filters["start"], end=filters["end"])
    return _raw_totals(calls_for(vos_account, **filters))


# --- Keyset pagination ----------------------------------------------------------------------
# A page is addressed by the (start, id) of the row next to it, so no page needs COUNT(*) or
# OFFSET: "older" continues below the last row shown, "newer" above the first one.


def cursor_for(call) -> str:
    """The cursor of a call (a Cdr or a page row)."""
    micros = (call.start - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{call.id}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        micros, pk = (int(part) for part in value.split("_", 1))
    except ValueError:
        return None
    try:
        return EPOCH + timedelta(microseconds=micros), pk
    except OverflowError:
        return None


# What a page of calls shows (telephony/_calls_table.html) and its cursors need.
PAGE_FIELDS = (
    "id",
    "start",
    "caller_e164",
    "callee_e164",
    "hold_time",
    "fee_time",
    "fee",
    "end_direction",
    "end_reason",
)


@dataclass(frozen=True)
class CallsPage:
    # Rows with the PAGE_FIELDS as attributes (call.start, call.fee, ...): named tuples, not
    # model instances, which cost more to build than the page takes to render.
    calls: list
    older: str | None  # cursor for the next (older) page, if any
    newer: str | None  # cursor for the previous (newer) page, if any


def calls_page(
    calls: QuerySet[Cdr],
    *,
    older_than: str | None = None,
    newer_than: str | None = None,
    size: int = PAGE_SIZE,
) -> CallsPage:
    """One page of ``calls``, newest first, after/before a cursor; ``size + 1`` rows read."""
    before = parse_cursor(older_than)
    after = None if before else parse_cursor(newer_than)
    calls = calls.values_list(*PAGE_FIELDS, named=True)
    if after:
        moment, pk = after
        rows = list(
            calls.filter(Q(start__gt=moment) | Q(start=moment, pk__gt=pk)).order_by("start", "id")[
                : size + 1
            ]
        )
        more = len(rows) > size
        rows = rows[:size][::-1]
        return CallsPage(
            calls=rows,
            older=cursor_for(rows[-1]) if rows else None,
            newer=cursor_for(rows[0]) if rows and more else None,
        )
    if before:
        moment, pk = before
        calls = calls.filter(Q(start__lt=moment) | Q(start=moment, pk__lt=pk))
    rows = list(calls.order_by("-start", "-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return CallsPage(
        calls=rows,
        older=cursor_for(rows[-1]) if rows and more else None,
        newer=cursor_for(rows[0]) if rows and before else None,
    )


# --- CSV export ------------------------------------------------------------------------------
# The columns of the export, in order (telephony.calls_export formats them in SQL).
CSV_COLUMNS = (
    "start",
    "caller_e164",
    "callee_e164",
    "hold_time",
    "fee_time",
    "fee",
    "end_direction",
    "end_reason",
)


# --- Server days and the mirror's state ---------------------------------------------------


def server_tz(server: VosServer) -> ZoneInfo:
    return ZoneInfo(server.time_zone)


def server_today(server: VosServer, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(server_tz(server)).date()


def day_start(server: VosServer, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=server_tz(server))


def known_accounts(server: VosServer) -> list[str]:
    """The accounts VOS still lists for ``server``, sorted."""
    return list(
        VosAccount.objects.filter(server=server, missing_since__isnull=True)
        .order_by("account")
        .values_list("account", flat=True)
    )


SYNCED_CACHE_SECONDS = 60


def last_synced(server: VosServer | int, job: str) -> datetime | None:
    """When ``job`` last succeeded for ``server`` (a VosServer or its id); None if never.

    Kept SYNCED_CACHE_SECONDS in the cache (every page shows it); the job runner (and
    ``SyncState.save``) drops the entry when a run succeeds, so a finished sync shows at once."""
    server_id = server if isinstance(server, int) else server.pk
    key = SyncState.synced_cache_key(server_id, job)
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    value = (
        SyncState.objects.filter(server_id=server_id, job=job)
        .values_list("last_success_at", flat=True)
        .first()
    )
    cache.set(key, value or "", SYNCED_CACHE_SECONDS)
    return value


def sync_states(server: VosServer | int) -> dict[str, SyncState]:
    """Every job's SyncState of a server, by job name (jobs never run are absent)."""
    server_id = server if isinstance(server, int) else server.pk
    return {s.job: s for s in SyncState.objects.filter(server_id=server_id)}


# --- Keyset paging by call id (the API's calls: since / after / limit / direction) ----------

FORWARD = "forward"
BACKWARD = "backward"


@dataclass(frozen=True)
class CallsSlice:
    calls: list[Cdr]
    next_after: int | None  # the id to pass as ``after`` for the next slice, if there is one


def calls_after(
    vos_account: VosAccount,
    *,
    since: datetime | None = None,
    after: int | None = None,
    limit: int = 10,
    direction: str = BACKWARD,
) -> CallsSlice:
    """Calls of one account in (start, id) order, continuing after the call ``after``.

    ``forward`` reads oldest first (from ``since``), ``backward`` newest first (down to
    ``since``). The order is a total order on the ``cdr_account_start`` index, so every call
    is read exactly once across slices, and calls stored meanwhile with a later start only
    ever appear ahead of a forward reader or behind a backward one. An ``after`` that is not
    one of the account's calls reads nothing.
    """
    calls = Cdr.objects.filter(server_id=vos_account.server_id, account=vos_account.account)
    if since is not None:
        calls = calls.filter(start__gte=since)
    forward = direction == FORWARD
    if after is not None:
        anchor = (
            Cdr.objects.filter(
                server_id=vos_account.server_id, account=vos_account.account, pk=after
            )
            .values_list("start", flat=True)
            .first()
        )
        if anchor is None:
            return CallsSlice(calls=[], next_after=None)
        if forward:
            calls = calls.filter(Q(start__gt=anchor) | Q(start=anchor, pk__gt=after))
        else:
            calls = calls.filter(Q(start__lt=anchor) | Q(start=anchor, pk__lt=after))
    order = ("start", "id") if forward else ("-start", "-id")
    rows = list(calls.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return CallsSlice(calls=rows, next_after=rows[-1].pk if rows and more else None)
