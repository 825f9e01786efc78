"""Settling unknown ledger rows against VOS pay history (docs/MONEY.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from telephony.models import VosServer
from telephony.vos import PayHistoryRecord, VosClient, VosError, VosNotFound

from ..models import LedgerEntry
from .ledger import State, bounded_client, memo_tag_of, mirror_balance, reconcile_margin, settle

CARD_PAY_TYPE = 2  # GetPayHistory payType: phone card


@dataclass
class ReconcileSummary:
    applied: int = 0
    failed: int = 0
    still_unknown: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.applied} applied, {self.failed} failed, {self.still_unknown} still unknown"


def _clusters(rows: list[LedgerEntry], margin: timedelta) -> list[list[LedgerEntry]]:
    """Rows of one account split where their windows are far apart (one query per cluster)."""
    rows = sorted(rows, key=lambda r: r.sent_at)
    clusters: list[list[LedgerEntry]] = []
    for row in rows:
        if clusters and row.sent_at - clusters[-1][-1].sent_at <= timedelta(hours=6):
            clusters[-1].append(row)
        else:
            clusters.append([row])
    return clusters


def ledger_reconcile(
    *,
    entries: Iterable[LedgerEntry] | None = None,
    now: datetime | None = None,
    deadline: float | None = None,
) -> ReconcileSummary:
    """Settle unknown rows against VOS pay history.

    By memo (``portal#<id>``) where the server returns memos; otherwise by account, amount,
    pay time within sent_at ± margin, and one record per row at most (records already
    matched to rows, or belonging to rows applied with a known balance, are not candidates).
    A row is failed only when its window has closed and nothing matches. If GetPayHistory
    cannot be read, rows stay unknown for the next run. With a ``deadline`` (a request's
    budget), GetPayHistory waits no longer than that.
    """
    now = now or timezone.now()
    margin = reconcile_margin()
    summary = ReconcileSummary()
    if entries is None:
        queryset = LedgerEntry.objects.filter(state=State.UNKNOWN)
    else:
        queryset = LedgerEntry.objects.filter(pk__in=[e.pk for e in entries], state=State.UNKNOWN)
    rows = list(queryset.select_related("server", "created_by").order_by("sent_at"))
    groups: dict[tuple[int, str], list[LedgerEntry]] = defaultdict(list)
    for row in rows:
        if row.sent_at is None:  # cannot happen: only a sent row becomes unknown
            row.sent_at = row.created_at
        groups[(row.server_id, row.account)].append(row)
    for (_server_id, account), group in groups.items():
        server = group[0].server
        client = bounded_client(server, deadline)
        for cluster in _clusters(group, margin):
            begin = cluster[0].sent_at - margin
            end = cluster[-1].sent_at + margin
            try:
                history = client.get_pay_history(account=account, begin=begin, end=end)
            except VosError as exc:
                summary.errors.append(f"{server}/{account}: {exc.message}")
                summary.still_unknown += len(cluster)
                LedgerEntry.objects.filter(pk__in=[r.pk for r in cluster]).update(checked_at=now)
                continue
            _match(
                client=client,
                server=server,
                account=account,
                rows=cluster,
                history=history,
                begin=begin,
                end=end,
                now=now,
                margin=margin,
                summary=summary,
            )
    return summary


def _match(
    *,
    client: VosClient,
    server: VosServer,
    account: str,
    rows: list[LedgerEntry],
    history: list[PayHistoryRecord],
    begin: datetime,
    end: datetime,
    now: datetime,
    margin: timedelta,
    summary: ReconcileSummary,
) -> None:
    keys = {record.natural_key: record for record in history}
    claimed = set(
        LedgerEntry.objects.filter(server=server, vos_record_key__in=list(keys)).values_list(
            "vos_record_key", flat=True
        )
    )
    by_tag: dict[str, PayHistoryRecord] = {}
    memo_less: list[PayHistoryRecord] = []
    for record in history:
        if record.memo is None:
            memo_less.append(record)
        elif tag := memo_tag_of(record.memo):
            by_tag.setdefault(tag, record)
    if memo_less:
        _claim_known(
            server=server,
            account=account,
            memo_less=memo_less,
            claimed=claimed,
            begin=begin - margin,
            end=end + margin,
        )
    # A row still being sent may own a memo-less record we cannot tell apart: wait for it.
    in_flight = LedgerEntry.objects.filter(
        server=server, account=account, state=State.PENDING, sent_at__isnull=False
    ).exists()
    for row in rows:
        record = by_tag.get(row.memo_tag)
        if record is None and memo_less and not in_flight:
            record = _memo_less_match(row, memo_less, claimed, margin)
        if record is not None:
            claimed.add(record.natural_key)
            _applied(row, record, now, summary)
        elif now > row.sent_at + margin and not (memo_less and in_flight):
            _not_found(row, now, summary, client)
        else:
            LedgerEntry.objects.filter(pk=row.pk).update(checked_at=now)
            summary.still_unknown += 1


def _claim_known(
    *,
    server: VosServer,
    account: str,
    memo_less: list[PayHistoryRecord],
    claimed: set[str],
    begin: datetime,
    end: datetime,
) -> None:
    """Records of rows applied with a known answer are theirs: match them by amount and
    balance after, and remember the match so later runs need not do it again."""
    known = LedgerEntry.objects.filter(
        server=server,
        account=account,
        state=State.APPLIED,
        vos_record_key="",
        balance_after__isnull=False,
        sent_at__gte=begin,
        sent_at__lte=end,
    ).order_by("sent_at")
    for applied in known:
        record = next(
            (
                r
                for r in memo_less
                if r.natural_key not in claimed
                and r.fee == applied.amount
                and r.balance_after == applied.balance_after
            ),
            None,
        )
        if record is None:
            continue
        claimed.add(record.natural_key)
        try:
            with transaction.atomic():
                LedgerEntry.objects.filter(pk=applied.pk, vos_record_key="").update(
                    vos_record_key=record.natural_key
                )
        except IntegrityError:
            pass


def _memo_less_match(
    row: LedgerEntry, memo_less: list[PayHistoryRecord], claimed: set[str], margin: timedelta
) -> PayHistoryRecord | None:
    """The unclaimed memo-less record of the row's amount closest to when it was sent."""
    # A card's record has pay type 2 (phone card); a Pay's never does.
    card = row.kind == LedgerEntry.Kind.CARD
    candidates = [
        r
        for r in memo_less
        if r.natural_key not in claimed
        and (r.pay_type == CARD_PAY_TYPE) == card
        and r.fee == row.amount
        and abs(r.pay_time - row.sent_at) <= margin
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda r: abs(r.pay_time - row.sent_at))


def _applied(
    row: LedgerEntry, record: PayHistoryRecord, now: datetime, summary: ReconcileSummary
) -> None:
    if settle(
        row,
        State.APPLIED,
        from_states=[State.UNKNOWN],
        balance_after=record.balance_after,
        vos_record_key=record.natural_key,
        now=now,
    ):
        summary.applied += 1
        if record.balance_after is not None:
            mirror_balance(entry=row, balance=record.balance_after, read_at=record.pay_time)


def _not_found(
    row: LedgerEntry, now: datetime, summary: ReconcileSummary, client: VosClient
) -> None:
    if row.kind == LedgerEntry.Kind.CARD and _card_used_by_row(row, client, now, summary):
        return
    if settle(
        row,
        State.FAILED,
        from_states=[State.UNKNOWN],
        now=now,
        error=f"{row.error}; not in VOS pay history (reconciled)".lstrip("; "),
    ):
        summary.failed += 1


def _card_used_by_row(
    row: LedgerEntry, client: VosClient, now: datetime, summary: ReconcileSummary
) -> bool:
    """A card row not found in the pay history: GetPhoneCard says whether the card was used.

    Used by this account: the row is applied (one row per card is ever open or applied, so
    the use is this row's). True also when the card cannot be read (the row stays unknown);
    False when the card is unused or used by another account: the row is then failed.
    """
    try:
        card = client.get_phone_card(pin=row.card_pin)
    except VosNotFound:
        return False
    except VosError as exc:
        summary.errors.append(f"{row.server}/{row.account}: {exc.message}")
        summary.still_unknown += 1
        LedgerEntry.objects.filter(pk=row.pk).update(checked_at=now)
        return True
    if not (card.used and card.used_account == row.account):
        return False
    if settle(
        row,
        State.APPLIED,
        from_states=[State.UNKNOWN],
        error=f"{row.error}; card used by this account (reconciled)".lstrip("; "),
        now=now,
    ):
        summary.applied += 1
    return True
