"""Mirrors of VOS money records: pay history, daily fee reports and consumption.

The PAYMENTS and REPORTS sync jobs (registered in BillingConfig.ready) and the reconciliation
both store pay history through `pay_records_store`: one natural key, one insert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from telephony.models import SyncState, VosAccount, VosServer
from telephony.selectors import known_accounts, server_today, server_tz
from telephony.services.jobs import cursor_date, cursor_time
from telephony.vos import PayHistoryRecord, VosClient, chunked, client_for

from ..models import Consumption, FeeReport, LedgerEntry, PayHistoryCoverage, PayRecord
from .ledger import reconcile_margin

log = logging.getLogger(__name__)

REPORT_ACCOUNTS_PER_CALL = 100
# Pay history and consumption: how far back a server's first run looks, the overlap of each
# later run with the previous one (records may be written late), and the longest window asked.
HISTORY_INITIAL_DAYS = 92
HISTORY_OVERLAP = timedelta(hours=2)
HISTORY_WINDOW = timedelta(days=31)
REPORT_INITIAL_DAYS = 31


def _history_owners(server: VosServer) -> list[dict[str, str]]:
    """Who to ask GetPayHistory / GetConsumption for: each agent once, plus every account
    that has no agent (these are asked one by one)."""
    rows = VosAccount.objects.filter(server=server, missing_since__isnull=True).values_list(
        "account", "agent_account"
    )
    agents = sorted({agent for _, agent in rows if agent})
    lone = sorted(account for account, agent in rows if not agent)
    return [{"agent_account": a} for a in agents] + [{"account": a} for a in lone]


def _history_windows(since: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    start = since
    while start < until:
        end = min(until, start + HISTORY_WINDOW)
        yield start, end
        start = end


def _history_since(state: SyncState, key: str, now: datetime) -> datetime:
    through = cursor_time(state, key)
    if through is None:
        return now - timedelta(days=HISTORY_INITIAL_DAYS)
    return through - HISTORY_OVERLAP


def _history_sync(
    *,
    server: VosServer,
    state: SyncState,
    now: datetime | None,
    cursor_key: str,
    fetch: Callable[..., list],
    model,
    row: Callable[[str, Any], Any],
) -> int:
    """Records of a yyyyMMddHHmmss interface since the last run (with an overlap), per owner
    (agent or lone account) and window, stored once by natural key; moves the cursor on."""
    now = now or timezone.now()
    since = _history_since(state, cursor_key, now)
    added = 0
    for owner in _history_owners(server):
        for begin, end in _history_windows(since, now):
            unique = {r.natural_key: r for r in fetch(begin=begin, end=end, **owner)}
            added += _insert_new(model, server, [row(key, r) for key, r in unique.items()])
    state.cursor[cursor_key] = now.isoformat()
    return added


def pay_history_sync(
    *, server: VosServer, client: VosClient, state: SyncState, now: datetime | None = None
) -> int:
    """GetPayHistory since the last run (with an overlap) into billing.PayRecord."""
    return _history_sync(
        server=server,
        state=state,
        now=now,
        cursor_key="through",
        fetch=client.get_pay_history,
        model=PayRecord,
        row=lambda key, r: pay_record(server, r, key=key),
    )


def pay_record(server: VosServer, record: PayHistoryRecord, *, key: str = "") -> PayRecord:
    """The PayRecord row of one GetPayHistory record."""
    return PayRecord(
        server=server,
        natural_key=key or record.natural_key,
        account=record.account[:64],
        amount=record.fee,
        type=record.type,
        pay_type=record.pay_type,
        balance_after=record.balance_after,
        paid_at=record.pay_time,
        memo=(record.memo or "")[:255],
    )


def pay_records_store(*, server: VosServer, records: Iterable[PayHistoryRecord]) -> int:
    """Store GetPayHistory records not stored yet (by natural key); returns how many."""
    unique = {r.natural_key: r for r in records}
    return _insert_new(PayRecord, server, [pay_record(server, r, key=k) for k, r in unique.items()])


def pay_history_fetch(
    *, server: VosServer, accounts: Iterable[str], begin: datetime, end: datetime
) -> int:
    """Read VOS pay history of ``accounts`` into the PayRecord mirror; rows added.

    Idempotent: records are keyed by their natural key. Each account's window is remembered
    (PayHistoryCoverage), so the reconciliation report knows what the mirror has seen.
    """
    client = client_for(server)
    added = 0
    for account in sorted(set(accounts)):
        fetched_at = timezone.now()
        history = client.get_pay_history(account=account, begin=begin, end=end)
        added += pay_records_store(server=server, records=history)
        PayHistoryCoverage.objects.create(
            server=server, account=account, begin=begin, end=end, fetched_at=fetched_at
        )
    return added


def entry_history_fetch(*, entry: LedgerEntry) -> int:
    """After a Pay is applied: that account's pay history around it, into the mirror.

    The window runs from the reconciliation margin before the Pay was sent to the margin
    after now, so a switch clock that differs from ours still falls inside it.
    """
    margin = reconcile_margin()
    sent = entry.sent_at or entry.created_at
    now = timezone.now()
    return pay_history_fetch(
        server=entry.server, accounts=[entry.account], begin=sent - margin, end=now + margin
    )


def _insert_new(model, server: VosServer, rows: list) -> int:
    """Bulk-insert rows whose (server, natural_key) is not stored yet; returns how many."""
    added = 0
    for batch in chunked(rows, 500):
        existing = set(
            model.objects.filter(
                server=server, natural_key__in=[r.natural_key for r in batch]
            ).values_list("natural_key", flat=True)
        )
        fresh = [r for r in batch if r.natural_key not in existing]
        if fresh:
            model.objects.bulk_create(fresh, ignore_conflicts=True)
            added += len(fresh)
    return added


def fee_reports_sync(
    *, server: VosServer, client: VosClient, state: SyncState, now: datetime | None = None
) -> int:
    """Daily fee totals of every known account for the closed days since the last run.

    The last stored day is asked again (a report can move while late records arrive).
    GetReportCustomerFee with period 1 (by day) over the whole range, 100 accounts a call;
    each row is filed under the server day its beginTime falls on. Then GetConsumption.
    """
    now = now or timezone.now()
    yesterday = server_today(server, now) - timedelta(days=1)
    through = cursor_date(state, "through")
    first = (
        (through - timedelta(days=1))
        if through
        else (yesterday - timedelta(days=REPORT_INITIAL_DAYS - 1))
    )
    rows = 0
    if first <= yesterday:
        tz = server_tz(server)
        for batch in chunked(known_accounts(server), REPORT_ACCOUNTS_PER_CALL):
            by_day: dict[date, dict[str, Any]] = {}
            for begin, end, report in client.fee_report_windows(
                accounts=batch, first=first, last=yesterday
            ):
                for row in report:
                    if row.begin is not None:
                        day = row.begin.astimezone(tz).date()
                    elif begin == end:
                        day = begin
                    else:
                        log.warning("VOS %s: fee report row without beginTime", server.name)
                        continue
                    by_day.setdefault(day, {})[row.account] = row
            for day, totals in sorted(by_day.items()):
                rows += _fee_reports_upsert(server=server, day=day, reports=totals.values())
        state.cursor["through"] = yesterday.isoformat()
    rows += consumption_sync(server=server, client=client, state=state, now=now)
    return rows


def payments_job(*, server: VosServer, client: VosClient, state: SyncState) -> int:
    return pay_history_sync(server=server, client=client, state=state)


def reports_job(*, server: VosServer, client: VosClient, state: SyncState) -> int:
    return fee_reports_sync(server=server, client=client, state=state)


def _fee_reports_upsert(*, server: VosServer, day: date, reports: Iterable) -> int:
    """Upsert one day's report rows; returns how many were new or changed."""
    reports = [
        FeeReport(
            server=server,
            account=r.account[:64],
            day=day,
            cdr_count=r.cdr_count,
            total_fee=r.total_fee,
            total_time=r.total_time,
        )
        for r in reports
    ]
    stored = {
        row["account"]: row
        for row in FeeReport.objects.filter(
            server=server, day=day, account__in=[r.account for r in reports]
        ).values("account", "cdr_count", "total_fee", "total_time")
    }
    changed = [
        r
        for r in reports
        if (old := stored.get(r.account)) is None
        or (old["cdr_count"], old["total_fee"], old["total_time"])
        != (r.cdr_count, r.total_fee, r.total_time)
    ]
    if changed:
        FeeReport.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["server", "account", "day"],
            update_fields=["cdr_count", "total_fee", "total_time", "synced_at"],
        )
    return len(changed)


def consumption_sync(
    *, server: VosServer, client: VosClient, state: SyncState, now: datetime | None = None
) -> int:
    """GetConsumption (rents, minimum charges) since the last run into billing.Consumption."""
    return _history_sync(
        server=server,
        state=state,
        now=now,
        cursor_key="consumption_through",
        fetch=client.get_consumption,
        model=Consumption,
        row=lambda key, r: Consumption(
            server=server,
            natural_key=key,
            account=r.account[:64],
            amount=r.money,
            balance_after=r.balance_after,
            type=r.type,
            source=r.name[:64],
            at=r.time,
        ),
    )
