"""Reads behind the customer's money pages: dashboard figures, spend, payments, statements.

Everything here reads the local mirror (Cdr, PayRecord, Consumption, VosAccount); nothing
calls VOS. How a statement's opening balance is derived is explained in docs/STATEMENT.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal

from django.core.cache import cache
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from telephony.models import ROLLUP_BUCKET_SECONDS, Cdr, CdrRollup, VosAccount
from telephony.money import places_adding_up
from telephony.selectors import CallTotals, day_bounds, money_sum, period_totals
from telephony.timezones import LocalDate, utc_offset_pieces

from .models import Consumption, LedgerEntry, PayRecord
from .services.ledger import memo_tag_of, reconcile_margin

ZERO = Decimal("0")
SPEND_DAYS = 30
BURN_DAYS = 7
# How long the dashboard reuses an account's spend per day (recent_spend).
SPEND_CACHE_SECONDS = 60


# --- Spend per day ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySpend:
    day: date
    amount: Decimal
    calls: int


def _raw_spend(vos_account: VosAccount, start: datetime, end: datetime, tz) -> QuerySet:
    return (
        Cdr.objects.filter(
            server_id=vos_account.server_id,
            account=vos_account.account,
            start__gte=start,
            start__lt=end,
        )
        .annotate(day=LocalDate("start", tzinfo=tz, start=start, end=end))
        .values("day")
        .annotate(amount=Sum("fee"), calls=Count("id"))
        .order_by()
    )


def _rollup_spend(vos_account: VosAccount, start: datetime, end: datetime, tz) -> QuerySet:
    return (
        CdrRollup.objects.filter(
            server_id=vos_account.server_id,
            account=vos_account.account,
            bucket__gte=start,
            bucket__lt=end,
        )
        .annotate(day=LocalDate("bucket", tzinfo=tz, start=start, end=end))
        .values("day")
        .annotate(amount=Sum("cost"), calls=Sum("calls"))
        .order_by()
    )


def days_in_whole_buckets(tz: tzinfo, start: datetime, end: datetime) -> bool:
    """Whether every local midnight in [start, end) is a rollup bucket boundary: the zone's
    offset is a whole number of quarter hours throughout (every zone in use today)."""
    return all(
        offset % ROLLUP_BUCKET_SECONDS == 0 for _, offset in utc_offset_pieces(tz, start, end)
    )


def spend_by_day(vos_account: VosAccount, *, first: date, last: date, tz) -> list[DaySpend]:
    """Call charges per day of the user's calendar (``tz``), every day first..last present.

    One GROUP BY over the account's quarter-hour rollups in the range (at most 96 rows a
    day, whatever the number of calls), the dates computed by the database (LocalDate). A
    zone whose midnights are not on quarter hours is summed from the raw rows instead.
    """
    start, end = day_bounds(first, last, tz)
    if days_in_whole_buckets(tz, start, end):
        rows = _rollup_spend(vos_account, start, end, tz)
    else:
        rows = _raw_spend(vos_account, start, end, tz)
    by_day = {row["day"]: row for row in rows}
    series = []
    day = first
    while day <= last:
        row = by_day.get(day)
        series.append(
            DaySpend(
                day=day,
                amount=money_sum(row["amount"]) if row else ZERO,
                calls=row["calls"] if row else 0,
            )
        )
        day += timedelta(days=1)
    return series


def recent_spend(
    vos_account: VosAccount,
    *,
    today: date,
    tz: tzinfo,
    calls_synced_at: datetime | None,
    days: int = SPEND_DAYS,
) -> list[DaySpend]:
    """spend_by_day of the ``days`` days up to ``today``, kept SPEND_CACHE_SECONDS in the cache.

    The key holds the end of the last call-record sync (``calls_synced_at``), so calls the
    periodic job brings show as soon as it is done; records stored any other way (a backfill,
    a sync still running) show within SPEND_CACHE_SECONDS.
    """
    first = today - timedelta(days=days - 1)
    synced = calls_synced_at.isoformat() if calls_synced_at else "never"
    key = f"billing:spend:{vos_account.pk}:{tz}:{first.isoformat()}:{today.isoformat()}:{synced}"
    return cache.get_or_set(
        key, lambda: spend_by_day(vos_account, first=first, last=today, tz=tz), SPEND_CACHE_SECONDS
    )


def window_totals(
    vos_account: VosAccount, *, start: datetime, end: datetime, calls_synced_at: datetime | None
) -> CallTotals:
    """The calls page's totals of an unfiltered window (period_totals), kept
    SPEND_CACHE_SECONDS in the cache under the end of the last call-record sync, like
    recent_spend: paging through a window or coming back to it reads them once."""
    synced = calls_synced_at.isoformat() if calls_synced_at else "never"
    key = f"billing:window:{vos_account.pk}:{start.isoformat()}:{end.isoformat()}:{synced}"
    return cache.get_or_set(
        key, lambda: period_totals(vos_account, start=start, end=end), SPEND_CACHE_SECONDS
    )


@dataclass(frozen=True)
class BurnRate:
    """How long the available credit lasts at the recent average daily spend."""

    average: Decimal  # per day over the window
    window_days: int
    days_left: int | None  # None: nothing was spent in the window

    @property
    def exhausted(self) -> bool:
        return self.days_left == 0


def burn_rate(
    series: list[DaySpend], *, available: Decimal, today: date, window: int = BURN_DAYS
) -> BurnRate:
    """Average over the ``window`` full days before today (today is not over yet)."""
    days = [d for d in series if today - timedelta(days=window) <= d.day < today]
    total = sum((d.amount for d in days), ZERO)
    average = total / window
    if average <= 0:
        return BurnRate(average=ZERO, window_days=window, days_left=None)
    if available <= 0:
        return BurnRate(average=average, window_days=window, days_left=0)
    days_left = int((available / average).to_integral_value(rounding=ROUND_FLOOR))
    return BurnRate(average=average, window_days=window, days_left=days_left)


@dataclass(frozen=True)
class ChartBar:
    day: date
    amount: Decimal
    calls: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class SpendChart:
    """Bars of the server-rendered SVG chart, in a viewBox of ``width`` x ``height``.

    The SVG stretches to its box (preserveAspectRatio="none"); labels are HTML around it so
    they stay readable at any width.
    """

    bars: list[ChartBar]
    total: Decimal
    peak: Decimal
    width: int = 300
    height: int = 100

    @property
    def key(self) -> str:
        """Everything the rendered chart depends on (the template caches it by this)."""
        return "|".join(f"{b.day.isoformat()}={b.amount}/{b.calls}" for b in self.bars)

    @property
    def labels(self) -> list[date]:
        """Dates printed under the chart: first, middle and last day."""
        if not self.bars:
            return []
        picks = {0, len(self.bars) // 2, len(self.bars) - 1}
        return [self.bars[i].day for i in sorted(picks)]


def spend_chart(series: list[DaySpend]) -> SpendChart:
    width, height = SpendChart.width, SpendChart.height
    peak = max((d.amount for d in series), default=ZERO)
    slot = width / max(len(series), 1)
    bars = []
    for i, d in enumerate(series):
        bar_height = float(d.amount / peak) * height if peak > 0 else 0.0
        if d.amount > 0:
            bar_height = max(bar_height, 1.0)  # a small spend stays visible
        bars.append(
            ChartBar(
                day=d.day,
                amount=d.amount,
                calls=d.calls,
                x=round(i * slot + slot * 0.12, 3),
                y=round(height - bar_height, 3),
                width=round(slot * 0.76, 3),
                height=round(bar_height, 3),
            )
        )
    return SpendChart(bars=bars, total=sum((d.amount for d in series), ZERO), peak=peak)


# --- Payments --------------------------------------------------------------------------------


def payments_for(
    vos_account: VosAccount, *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[PayRecord]:
    """The account's pay history (newest first), optionally within [start, end)."""
    payments = PayRecord.objects.filter(
        server_id=vos_account.server_id, account=vos_account.account
    )
    if start is not None:
        payments = payments.filter(paid_at__gte=start)
    if end is not None:
        payments = payments.filter(paid_at__lt=end)
    return payments.order_by("-paid_at", "-id")


# How far back the Payments page looks for applied movements the mirror does not show yet.
AWAITING_DAYS = 31


def payments_awaiting(vos_account: VosAccount, *, now: datetime | None = None) -> list:
    """Applied ledger rows of the account whose pay-history record is not in the mirror yet
    (newest first). A row is shown until its record arrives, never beside it: a record is its
    row's when it carries the row's ``portal#<id>`` tag, is the record reconciliation matched
    (``vos_record_key``), or, memo-less, has the row's amount and balance after."""
    now = now or timezone.now()
    entries = list(
        LedgerEntry.objects.filter(
            server_id=vos_account.server_id,
            account=vos_account.account,
            state=LedgerEntry.State.APPLIED,
            settled_at__gte=now - timedelta(days=AWAITING_DAYS),
        ).order_by("-settled_at", "-pk")
    )
    if not entries:
        return []
    earliest = min(e.sent_at or e.created_at for e in entries) - reconcile_margin()
    tags, keys, memo_less = set(), set(), []
    for memo, key, amount, after in payments_for(vos_account, start=earliest).values_list(
        "memo", "natural_key", "amount", "balance_after"
    ):
        tag = memo_tag_of(memo)
        if tag:
            tags.add(tag)
        elif not memo:
            memo_less.append((amount, after))
        keys.add(key)
    awaiting = []
    for entry in entries:
        if entry.memo_tag in tags or (entry.vos_record_key and entry.vos_record_key in keys):
            continue
        pair = (entry.amount, entry.balance_after)
        if pair in memo_less:
            memo_less.remove(pair)
            continue
        awaiting.append(entry)
    return awaiting


# --- Statement -------------------------------------------------------------------------------

# Pay-history types that are the customer's own payments; every other type (credit, account
# creation, reset to zero) is shown as an adjustment.
PAYMENT_TYPES = (PayRecord.Type.PAYMENT,)


@dataclass(frozen=True)
class Movements:
    payments: Decimal = ZERO
    adjustments: Decimal = ZERO
    calls: Decimal = ZERO
    other: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.payments + self.adjustments - self.calls - self.other


@dataclass(frozen=True)
class Statement:
    start: datetime
    end: datetime  # exclusive; never later than the time the statement was made
    opening: Decimal
    closing: Decimal
    period: Movements
    call_count: int
    # The known balance the figures are anchored to (docs/STATEMENT.md).
    anchor_balance: Decimal
    anchor_at: datetime
    payment_rows: list[PayRecord]
    charge_rows: list[Consumption]

    @property
    def adds_up(self) -> bool:
        return self.opening + self.period.net == self.closing

    @property
    def places(self) -> int:
        """The decimal places the figures are shown with: the portal's usual two, or more
        where amounts of fractions of a cent would not add up as printed (a call costs
        0.1234, say): the switch's four always do."""
        p = self.period
        terms = (self.opening, p.payments, p.adjustments, -p.calls, -p.other)
        return places_adding_up(*terms, total=self.closing)


def _window_sum(field: str, moment: str, lo: datetime, hi: datetime, extra: Q | None = None):
    condition = Q(**{f"{moment}__gte": lo, f"{moment}__lt": hi})
    if extra is not None:
        condition &= extra
    return Coalesce(
        Sum(field, filter=condition),
        Value(ZERO),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )


def statement_kept(
    vos_account: VosAccount,
    *,
    start: datetime,
    end: datetime,
    synced: Iterable[datetime | None],
    now: datetime | None = None,
) -> Statement:
    """statement_for, kept SPEND_CACHE_SECONDS in the cache under the account's known
    balance and its time and the end of every sync of the server (``synced``: call records,
    pay history, fee reports...), everything it is worked out from, so a finished sync or a
    new balance shows at once.

    A period still running ("to date", cut at ``now``) is kept the same way: between two
    syncs no movement of it reaches the mirror, so its figures cut a minute later are the
    same ones. Like the calls page's totals, it shows a sync's rows once the sync ends."""
    now = now or timezone.now()
    stamps = ",".join(moment.isoformat() if moment else "-" for moment in synced)
    anchor = vos_account.balance_as_of.isoformat() if vos_account.balance_as_of else "-"
    key = hashlib.sha256(
        f"{start.isoformat()}|{end.isoformat()}|{vos_account.balance}|{anchor}|{stamps}".encode()
    ).hexdigest()[:32]
    key = f"billing:statement:{vos_account.pk}:{key}"
    return cache.get_or_set(
        key,
        lambda: statement_for(vos_account, start=start, end=end, now=now),
        SPEND_CACHE_SECONDS,
    )


def statement_for(
    vos_account: VosAccount, *, start: datetime, end: datetime, now: datetime | None = None
) -> Statement:
    """Opening and closing balance and the movements between, for [start, end).

    The closing balance is the known balance (``VosAccount.balance`` as of ``balance_as_of``)
    with the movements between the period's end and that moment taken back out (or added, if
    the period ends later); the opening balance is the closing balance less the period's net
    movement. Aggregates over the pay history, the call rollups and other charges, and two
    short lists.
    """
    now = now or timezone.now()
    end = min(end, now)
    start = min(start, end)
    anchor_at = vos_account.balance_as_of or now
    anchor = vos_account.balance
    # Movements between the period's end and the anchor, whichever comes first.
    gap_lo, gap_hi = sorted((end, anchor_at))
    lo, hi = min(start, gap_lo), max(end, gap_hi)
    scope = {"server_id": vos_account.server_id, "account": vos_account.account}
    is_payment = Q(type__in=PAYMENT_TYPES)

    pay = PayRecord.objects.filter(**scope, paid_at__gte=lo, paid_at__lt=hi).aggregate(
        payments=_window_sum("amount", "paid_at", start, end, is_payment),
        adjustments=_window_sum("amount", "paid_at", start, end, ~is_payment),
        gap=_window_sum("amount", "paid_at", gap_lo, gap_hi),
    )
    # Call charges from the rollups (with the raw rows of partial quarter hours): the same
    # cost at any history size, and months whose raw rows retention dropped still add up.
    period_calls = period_totals(vos_account, start=start, end=end)
    gap_calls = period_totals(vos_account, start=gap_lo, end=gap_hi)
    other = Consumption.objects.filter(**scope, at__gte=lo, at__lt=hi).aggregate(
        period=_window_sum("amount", "at", start, end),
        gap=_window_sum("amount", "at", gap_lo, gap_hi),
    )
    period = Movements(
        payments=pay["payments"],
        adjustments=pay["adjustments"],
        calls=period_calls.cost,
        other=other["period"],
    )
    gap_net = pay["gap"] - gap_calls.cost - other["gap"]
    closing = anchor - gap_net if anchor_at >= end else anchor + gap_net
    opening = closing - period.net
    return Statement(
        start=start,
        end=end,
        opening=opening,
        closing=closing,
        period=period,
        call_count=period_calls.calls,
        anchor_balance=anchor,
        anchor_at=anchor_at,
        payment_rows=list(payments_for(vos_account, start=start, end=end)[:500]),
        charge_rows=list(
            Consumption.objects.filter(**scope, at__gte=start, at__lt=end).order_by("-at")[:500]
        ),
    )
