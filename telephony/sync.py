"""Keeping the local mirror of VOS in step (the Celery jobs in telephony.tasks call these).

Each job works on one server with one client and never holds a transaction open across a VOS
call: it asks VOS first, then writes what it got. Every job can run twice with the same
result (natural keys, conditional updates, upserts). docs/SYNC.md describes the jobs.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Case, Q, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import MIRRORED_FIELDS, Cdr, Phone, SyncState, VosAccount, VosServer
from .vos import (
    CallStats,
    CdrRecord,
    Customer,
    CustomerAnswer,
    VosClient,
    VosError,
    VosIntervalTooLong,
    chunked,
    client_for,
    day_windows,
    fetched_ahead,
    page_client_for,
)

log = logging.getLogger(__name__)

Job = SyncState.Job

# GetCdr / GetReportCustomerFee: accounts per call (the manual sets no limit; this keeps
# requests and answers a sensible size).
CDR_ACCOUNTS_PER_CALL = 100
REPORT_ACCOUNTS_PER_CALL = 100
# Days asked per GetCdr call before any -10033; the learned size is kept per server.
CDR_WINDOW_DAYS = 7
# A server day is "surely closed" this long after its midnight: calls still running at
# midnight have ended and been written by then.
CDR_DAY_CLOSE_GRACE = timedelta(hours=3)
# When the CDR job has been down, it catches up at most this many days by itself; longer
# gaps are for `manage.py cdr_backfill`.
CDR_CATCH_UP_DAYS = 7
CDR_INSERT_BATCH = 5000
# Pay history and consumption: how far back a server's first run looks, the overlap of each
# later run with the previous one (records may be written late), and the longest window asked.
HISTORY_INITIAL_DAYS = 92
HISTORY_OVERLAP = timedelta(hours=2)
HISTORY_WINDOW = timedelta(days=31)
REPORT_INITIAL_DAYS = 31
RETENTION_BATCH = 5000

# Lock lifetimes: only a crashed worker ever lets one expire; a finished run deletes its lock.
LOCK_TIMEOUTS = {
    Job.DISCOVERY: 30 * 60,
    Job.BALANCES: 5 * 60,
    Job.CDRS: 60 * 60,
    Job.PAYMENTS: 60 * 60,
    Job.REPORTS: 2 * 60 * 60,
}


# --- Account figures ---------------------------------------------------------------------


def customer_fields(customer: Customer) -> dict:
    """VosAccount fields from a GetCustomer record."""
    return {
        "name": customer.name[:64],
        "agent_account": customer.agent_account,
        "account_type": customer.type,
        "balance": customer.money,
        "limit_money": customer.limit_money,
        "today_consumption": customer.today_consumption,
        "locked": customer.locked,
        "phone_book_limit": customer.phone_book_limit,
        "fee_rate_group": customer.fee_rate_group[:64],
        "memo": customer.memo[:255],
        "vos_created_at": customer.start_time,
        "valid_until": customer.valid_time,
    }


def _fresh_enough(read_at: datetime) -> Q:
    """Rows whose stored figures are not newer than a reading taken at ``read_at``."""
    return Q(balance_as_of__isnull=True) | Q(balance_as_of__lte=read_at)


def account_apply(*, server: VosServer, customer: Customer, read_at: datetime) -> bool:
    """Store one GetCustomer reading, unless a newer reading is already stored.

    ``read_at`` is when the request was sent. The conditional UPDATE makes a slow, old read
    unable to overwrite a fresher one (e.g. a push or a later poll). True if stored.
    """
    fields = customer_fields(customer)
    updated = VosAccount.objects.filter(
        _fresh_enough(read_at),
        server=server,
        account=customer.account,
    ).update(balance_as_of=read_at, missing_since=None, **fields)
    if updated:
        return True
    _, created = VosAccount.objects.get_or_create(
        server=server,
        account=customer.account,
        defaults={"balance_as_of": read_at, **fields},
    )
    return created


def accounts_apply(
    *,
    server: VosServer,
    answers: Sequence[CustomerAnswer],
    read_at: datetime,
    stored: dict[str, tuple[int, str | None]] | None = None,
) -> int:
    """`account_apply` for a batch of GetCustomer records, in one short transaction; returns
    the rows written.

    A record whose digest matches the one stored with its row is the record the row was
    copied from: it is neither decoded nor written (the sweep's start, kept on the server,
    says it was confirmed; ``VosAccount.figures_as_of``). Every other record is decoded and
    written with its digest (one statement for the batch), or inserted when the account is
    new. Each UPDATE keeps the `_fresh_enough` condition, so a reading older than the stored
    one never overwrites it. Call it after the VOS answer arrived: a push landing later
    carries a later time.

    ``stored`` is `accounts_stored` of the server, read before the request for the batch
    was sent (the sweep reads it once); without it, the batch's rows are read here.
    """
    if not answers:
        return 0
    sql = _AccountSql(read_at)
    if stored is None:
        stored = accounts_stored(server, accounts=[a.account for a in answers])
    changed: list[tuple] = []
    new: list[VosAccount] = []
    for answer in answers:
        pk, stored_digest = stored.get(answer.account, (None, None))
        digest = answer.digest
        if pk is not None and stored_digest == digest:
            continue
        fields = customer_fields(answer.decode())
        if pk is None:
            new.append(
                VosAccount(
                    server=server,
                    account=answer.account,
                    balance_as_of=read_at,
                    wire_digest=digest,
                    **fields,
                )
            )
        else:
            changed.append(sql.row(pk, digest, fields))
    if not (changed or new):
        return 0
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A mirror of what VOS holds: a crash may lose the last batch (the next sweep
            # writes it again, figures and digest together), so no commit waits for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if changed:
            written = sql.write(cursor, changed)
        if new:
            VosAccount.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return written + len(new)


def accounts_stored(
    server: VosServer, *, accounts: Sequence[str] | None = None
) -> dict[str, tuple[int, str | None]]:
    """The mirrored accounts of ``server`` (all, or ``accounts``): account -> (pk, digest;
    None when missing).

    A write after this read clears a digest that this still holds; the rows it concerns
    are rewritten by the next sweep, whose read comes after it.
    """
    rows = VosAccount.objects.filter(server=server)
    if accounts is not None:
        rows = rows.filter(account__in=accounts)
    return {
        account: (pk, digest)
        for pk, account, digest in rows.values_list(
            "pk", "account", Case(When(missing_since=None, then="wire_digest"))
        )
    }


class _AccountSql:
    """The statements of `accounts_apply`, in plain SQL: on a batch of 200 accounts, building
    them through the ORM took longer than running them.

    Each UPDATE carries the `_fresh_enough` condition: a reading older than the stored one
    never overwrites it.
    """

    def __init__(self, read_at: datetime) -> None:
        # The connection itself, not the proxy: row() asks it for every field of every row.
        self.connection = transaction.get_connection()
        meta = VosAccount._meta
        quote = self.connection.ops.quote_name
        self.fields = [meta.get_field(name) for name in sorted(MIRRORED_FIELDS)]
        self.stamp = meta.get_field("balance_as_of").get_db_prep_save(read_at, self.connection)
        col = {f.name: quote(f.column) for f in meta.concrete_fields}
        table, pk, as_of = quote(meta.db_table), quote(meta.pk.column), col["balance_as_of"]

        def fresh(prefix: str = "") -> str:
            return f"({prefix}{as_of} IS NULL OR {prefix}{as_of} <= %s)"

        stamped = f"{col['wire_digest']} = %s, {as_of} = %s, {col['missing_since']} = NULL"
        # One UPDATE a row, sent by executemany.
        assignments = ", ".join(f"{col[f.name]} = %s" for f in self.fields)
        self._write_row = (
            f"UPDATE {table} SET {assignments}, {stamped} WHERE {pk} = %s AND {fresh()}"
        )
        # PostgreSQL: one UPDATE ... FROM (VALUES ...) a batch (a statement a row costs a
        # round of the protocol each, even pipelined).
        names = ", ".join(quote(f.column) for f in self.fields)
        casts = ", ".join(
            f"{col[f.name]} = CAST(v.{quote(f.column)} AS {f.db_type(self.connection)})"
            for f in self.fields
        )
        self._write_joined = (
            f"UPDATE {table} AS t SET {casts}, {col['wire_digest']} = v.digest, "
            f"{as_of} = %s, {col['missing_since']} = NULL "
            f"FROM (VALUES {{rows}}) AS v(pk, digest, {names}) "
            f"WHERE t.{pk} = v.pk AND {fresh('t.')}"
        )

    def row(self, pk: int, digest: str, fields: dict) -> tuple:
        return (
            pk,
            digest,
            *(f.get_db_prep_save(fields[f.name], self.connection) for f in self.fields),
        )

    def write(self, cursor, rows: Sequence[tuple]) -> int:
        """Write every `row` unless a newer reading is stored; returns the rows written."""
        if self.connection.vendor == "postgresql":
            marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            cursor.execute(
                self._write_joined.format(rows=", ".join([marks] * len(rows))),
                [self.stamp, *(value for row in rows for value in row), self.stamp],
            )
        else:
            cursor.executemany(
                self._write_row,
                [(*values, digest, self.stamp, pk, self.stamp) for pk, digest, *values in rows],
            )
        return cursor.rowcount


@dataclass(frozen=True)
class Refresh:
    """The account after a refresh attempt; ``error`` says why VOS could not be asked."""

    account: VosAccount
    error: VosError | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None


def account_refresh(*, vos_account: VosAccount, client: VosClient | None = None) -> Refresh:
    """Ask VOS for one account's figures with the page timeout; fall back to the mirror."""
    client = client or page_client_for(vos_account.server)
    read_at = timezone.now()
    try:
        customer = client.get_customer(vos_account.account)
    except VosError as exc:
        log.warning("balance refresh of %s failed: %s", vos_account, exc)
        return Refresh(account=vos_account, error=exc)
    server = vos_account.server
    account_apply(server=server, customer=customer, read_at=read_at)
    vos_account.refresh_from_db()
    vos_account.server = server  # refresh_from_db drops it; figures_as_of reads it
    return Refresh(account=vos_account)


def balance_push_apply(
    *, server: VosServer, account: str, money: Decimal, received_at: datetime
) -> bool:
    """A CustomerMoneyChange push: the balance at ``received_at``, unless newer is stored.

    True if stored; False for an unknown account or when a newer reading is already there.
    """
    return bool(
        VosAccount.objects.filter(
            _fresh_enough(received_at), server=server, account=account
        ).update(balance=money, balance_as_of=received_at)
    )


def phone_online_apply(
    *, server: VosServer, e164: str, online: bool, event_at: datetime, remote_ip: str = ""
) -> Phone:
    """A PhoneOnline push; an event older than the one stored changes nothing."""
    fields = {"online": online, "last_seen_at": event_at, "remote_ip": remote_ip[:64]}
    updated = Phone.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=event_at), server=server, e164=e164
    ).update(**fields)
    if updated:
        return Phone.objects.get(server=server, e164=e164)
    phone, _created = Phone.objects.get_or_create(server=server, e164=e164, defaults=fields)
    return phone


# --- Server days ---------------------------------------------------------------------------


def server_tz(server: VosServer) -> ZoneInfo:
    return ZoneInfo(server.time_zone)


def server_today(server: VosServer, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(server_tz(server)).date()


def _day_start(server: VosServer, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=server_tz(server))


def _known_accounts(server: VosServer) -> list[str]:
    return list(
        VosAccount.objects.filter(server=server, missing_since__isnull=True)
        .order_by("account")
        .values_list("account", flat=True)
    )


# --- Discovery -----------------------------------------------------------------------------


def accounts_discover(*, server: VosServer, client: VosClient) -> int:
    """Mirror every VOS account of ``server`` with its agent; mark vanished ones missing.

    GetAllCustomers lists account ids only (2.1.7), so GetCustomer is asked in batches for
    the details. On builds whose ``{"type":1}`` form also gives each account's agent, only
    accounts new to the mirror need GetCustomer. Returns the rows added or changed.
    """
    now = timezone.now()
    briefs = client.get_all_customer_briefs()
    if briefs is not None and all(b.agent_account is not None for b in briefs):
        present = [b.account for b in briefs]
        known = set(
            VosAccount.objects.filter(server=server, account__in=present).values_list(
                "account", flat=True
            )
        )
        rows = 0
        by_agent: dict[str, list[str]] = {}
        for brief in briefs:
            if brief.account in known:
                by_agent.setdefault(brief.agent_account or "", []).append(brief.account)
        for agent, accounts in by_agent.items():
            for batch in chunked(accounts, 500):
                rows += (
                    VosAccount.objects.filter(server=server, account__in=batch)
                    .filter(~Q(agent_account=agent) | Q(missing_since__isnull=False))
                    .update(agent_account=agent, missing_since=None)
                )
        fetch = [a for a in present if a not in known]
    else:
        present = client.get_all_customers()
        fetch = present
        rows = 0
    rows += _customers_fetch(server=server, client=client, accounts=fetch)[0]
    rows += accounts_mark_missing(server=server, present=present, at=now)
    return rows


def _customers_fetch(
    *,
    server: VosServer,
    client: VosClient,
    accounts: Sequence[str],
    batch_size: int = 0,
    stored: dict[str, tuple[int, str | None]] | None = None,
) -> tuple[int, datetime | None]:
    """Batched GetCustomer for ``accounts`` into the mirror: the rows written, and when the
    first batch was asked (None for no accounts). VOS answers each batch while the one
    before is written."""
    size = max(1, batch_size or settings.SYNC_BALANCE_BATCH)
    rows = 0
    first_read: datetime | None = None
    for read_at, answers in client.get_customer_batches(chunked(list(accounts), size)):
        first_read = first_read or read_at
        rows += accounts_apply(server=server, answers=answers, read_at=read_at, stored=stored)
    return rows, first_read


def accounts_mark_missing(*, server: VosServer, present: Iterable[str], at: datetime) -> int:
    """Stamp ``missing_since`` on mirrored accounts VOS no longer lists."""
    present = set(present)
    stored = VosAccount.objects.filter(server=server, missing_since__isnull=True).values_list(
        "pk", "account"
    )
    gone = [pk for pk, account in stored if account not in present]
    marked = 0
    for batch in chunked(gone, 500):
        marked += VosAccount.objects.filter(pk__in=batch, missing_since__isnull=True).update(
            missing_since=at
        )
    if marked:
        log.info("VOS %s: %d accounts no longer listed", server.name, marked)
    return marked


# --- Balances ------------------------------------------------------------------------------


def balances_sync(*, server: VosServer, client: VosClient, batch_size: int | None = None) -> int:
    """Batched GetCustomer for every known account: balance, limit, lock, today's use.

    Only the figures that changed are written; once every batch is stored, the server's
    ``balances_confirmed_at`` moves on to when the sweep began, which vouches for the rest.
    """
    stored = accounts_stored(server)
    known = sorted(account for account, (_pk, digest) in stored.items() if digest is not None)
    rows, began = _customers_fetch(
        server=server,
        client=client,
        accounts=known,
        batch_size=batch_size or 0,
        stored=stored,
    )
    if began is not None:
        VosServer.objects.filter(
            Q(balances_confirmed_at__isnull=True) | Q(balances_confirmed_at__lt=began),
            pk=server.pk,
        ).update(balances_confirmed_at=began)
        server.balances_confirmed_at = max(began, server.balances_confirmed_at or began)
    return rows


# --- Call records --------------------------------------------------------------------------


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


def cdrs_fetch(
    *,
    server: VosServer,
    client: VosClient,
    first: date,
    last: date,
    accounts: Sequence[str] | None = None,
) -> int:
    """GetCdr for ``accounts`` (default: every known one) on server days first..last.

    Accounts go 100 to a call; windows of ``client.cdr_window_days`` days, halved by the
    client on -10033. Each batch is stored as soon as it arrives, while the next one is
    fetched. Returns rows added.
    """
    accounts = _known_accounts(server) if accounts is None else list(accounts)

    def ask(batch: list[str]) -> list[CdrRecord]:
        return client.get_cdrs(accounts=batch, begin=first, end=last)

    added = 0
    for records in fetched_ahead(ask, chunked(accounts, CDR_ACCOUNTS_PER_CALL)):
        added += cdrs_store(server=server, records=records)
    return added


def cdrs_sync(
    *, server: VosServer, client: VosClient, state: SyncState, now: datetime | None = None
) -> int:
    """Today's call records, and the days before it until each is surely closed.

    ``state.cursor["closed_through"]`` is the last server day fetched after its close; the
    days after it up to today are asked again on every run (catching up at most
    CDR_CATCH_UP_DAYS), so late-written records are picked up.
    """
    now = now or timezone.now()
    today = server_today(server, now)
    closed_through = _cursor_date(state, "closed_through")
    if closed_through is None:
        closed_through = today - timedelta(days=2)
    first = max(closed_through + timedelta(days=1), today - timedelta(days=CDR_CATCH_UP_DAYS))
    first = min(first, today)
    added = cdrs_fetch(server=server, client=client, first=first, last=today)
    # The newest day that is over and past its grace period is now fully mirrored.
    closed = today - timedelta(days=1)
    if now < _day_start(server, today) + CDR_DAY_CLOSE_GRACE:
        closed -= timedelta(days=1)
    state.cursor["closed_through"] = max(closed, closed_through).isoformat()
    return added


def _cursor_date(state: SyncState, key: str) -> date | None:
    value = state.cursor.get(key)
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _cursor_time(state: SyncState, key: str) -> datetime | None:
    value = state.cursor.get(key)
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- Pay history, fee reports, consumption -------------------------------------------------


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
    through = _cursor_time(state, key)
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
    from billing.models import PayRecord

    return _history_sync(
        server=server,
        state=state,
        now=now,
        cursor_key="through",
        fetch=client.get_pay_history,
        model=PayRecord,
        row=lambda key, r: PayRecord(
            server=server,
            natural_key=key,
            account=r.account[:64],
            amount=r.fee,
            type=r.type,
            pay_type=r.pay_type,
            balance_after=r.balance_after,
            paid_at=r.pay_time,
            memo=(r.memo or "")[:255],
        ),
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
    through = _cursor_date(state, "through")
    first = (
        (through - timedelta(days=1))
        if through
        else (yesterday - timedelta(days=REPORT_INITIAL_DAYS - 1))
    )
    rows = 0
    if first <= yesterday:
        tz = server_tz(server)
        for batch in chunked(_known_accounts(server), REPORT_ACCOUNTS_PER_CALL):
            by_day: dict[date, dict[str, Any]] = {}
            for begin, end, report in _fee_report_windows(client, batch, first, yesterday):
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


def _fee_report_windows(
    client: VosClient, accounts: list[str], first: date, last: date
) -> Iterator[tuple[date, date, list]]:
    """GetReportCustomerFee over first..last, split in halves while VOS says -10033."""
    pending = [(first, last)]
    while pending:
        begin, end = pending.pop(0)
        try:
            yield begin, end, client.get_fee_report(accounts=accounts, begin=begin, end=end)
        except VosIntervalTooLong:
            if begin == end:
                raise
            middle = begin + timedelta(days=(end - begin).days // 2)
            pending[:0] = [(begin, middle), (middle + timedelta(days=1), end)]


def _fee_reports_upsert(*, server: VosServer, day: date, reports: Iterable) -> int:
    """Upsert one day's report rows; returns how many were new or changed."""
    from billing.models import FeeReport

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
    from billing.models import Consumption

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


# --- Running a job: lock, client, SyncState ------------------------------------------------


@contextmanager
def job_lock(*, key: str, timeout: int) -> Iterator[bool]:
    """A non-blocking lock in the Django cache (Redis in production): yields True if taken.

    ``cache.add`` is atomic in Redis (SET NX), so one run wins. The lock is deleted only by
    its owner (its token still stored); the timeout frees the lock of a crashed worker.
    """
    token = uuid.uuid4().hex
    # Per database too: portals (or test runs) sharing one Redis never block each other.
    key = f"telephony:lock:{connection.settings_dict['NAME']}:{key}"
    acquired = cache.add(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


@dataclass(frozen=True)
class JobOutcome:
    server: str
    job: str
    rows: int = 0
    vos_calls: int = 0
    duration_ms: int = 0
    skipped: bool = False  # another run of the same job on the same server holds the lock


JobFunc = Callable[..., int]


def _run_discovery(*, server, client, state):
    return accounts_discover(server=server, client=client)


def _run_balances(*, server, client, state):
    return balances_sync(server=server, client=client)


def _run_cdrs(*, server, client, state):
    window = int(state.cursor.get("window_days") or CDR_WINDOW_DAYS)
    client.cdr_window_days = max(1, window)
    try:
        return cdrs_sync(server=server, client=client, state=state)
    finally:
        # Keep the window size this server accepts (the client halves it on -10033).
        state.cursor["window_days"] = client.cdr_window_days


def _run_payments(*, server, client, state):
    return pay_history_sync(server=server, client=client, state=state)


def _run_reports(*, server, client, state):
    return fee_reports_sync(server=server, client=client, state=state)


JOBS: dict[str, JobFunc] = {
    Job.DISCOVERY: _run_discovery,
    Job.BALANCES: _run_balances,
    Job.CDRS: _run_cdrs,
    Job.PAYMENTS: _run_payments,
    Job.REPORTS: _run_reports,
}


def run_client(server: VosServer) -> VosClient:
    """The server's pooled connection with its own call counter (for SyncState.vos_calls)."""
    base = client_for(server)
    connect, read = base.timeout
    client = base.with_timeouts(connect, read, retries=base.read_retries)
    client.stats = CallStats()
    return client


def server_job_run(*, server: VosServer, job: str, client: VosClient | None = None) -> JobOutcome:
    """Run one job for one server under its lock, recording the run in SyncState.

    A run already in progress elsewhere makes this a no-op (``skipped``). Errors are
    recorded and raised again (the Celery task retries VosUnavailable).
    """
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    with job_lock(key=f"{server.pk}:{job}", timeout=LOCK_TIMEOUTS[job]) as acquired:
        if not acquired:
            log.info("sync %s/%s already running; skipped", server.name, job)
            return JobOutcome(server=server.name, job=job, skipped=True)
        return _job_run_locked(server=server, job=job, client=client or run_client(server))


def _job_run_locked(*, server: VosServer, job: str, client: VosClient) -> JobOutcome:
    state, _created = SyncState.objects.get_or_create(server=server, job=job)
    started_at = timezone.now()
    SyncState.objects.filter(pk=state.pk).update(last_started_at=started_at)
    calls_before = client.stats.calls
    started = time.monotonic()
    try:
        rows = JOBS[job](server=server, client=client, state=state)
    except Exception as exc:
        duration = int((time.monotonic() - started) * 1000)
        SyncState.objects.filter(pk=state.pk).update(
            last_error_at=timezone.now(),
            last_error=_error_text(exc),
            last_duration_ms=duration,
            vos_calls=client.stats.calls - calls_before,
            cursor=state.cursor,
        )
        log.warning("sync %s/%s failed: %s", server.name, job, exc)
        raise
    duration = int((time.monotonic() - started) * 1000)
    calls = client.stats.calls - calls_before
    SyncState.objects.filter(pk=state.pk).update(
        last_success_at=timezone.now(),
        last_error="",
        last_rows=rows,
        last_duration_ms=duration,
        vos_calls=calls,
        cursor=state.cursor,
    )
    log.info("sync %s/%s: %d rows, %d VOS calls, %d ms", server.name, job, rows, calls, duration)
    return JobOutcome(server=server.name, job=job, rows=rows, vos_calls=calls, duration_ms=duration)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def cdr_backfill(
    *,
    server: VosServer,
    first: date,
    last: date,
    progress: Callable[[date, date, int], Any] | None = None,
) -> int:
    """Fetch call records of server days first..last (idempotent); returns rows added.

    Runs under its own lock (two backfills of one server never overlap); it may overlap the
    periodic CDR job harmlessly, since both only insert keys not yet stored.
    """
    if first > last:
        raise ValueError("first day is after last day")
    with job_lock(key=f"{server.pk}:cdr_backfill", timeout=6 * 60 * 60) as acquired:
        if not acquired:
            raise RuntimeError(f"a CDR backfill of {server.name} is already running")
        client = run_client(server)
        state = SyncState.objects.filter(server=server, job=Job.CDRS).first()
        window = int((state.cursor if state else {}).get("window_days") or CDR_WINDOW_DAYS)
        client.cdr_window_days = max(1, window)
        added = 0
        for begin, end in day_windows(first, last, max(window, 1)):
            rows = cdrs_fetch(server=server, client=client, first=begin, last=end)
            added += rows
            if progress:
                progress(begin, end, rows)
        return added


# --- Low-balance alerts --------------------------------------------------------------------


def low_balance_alerts_send(*, now: datetime | None = None) -> int:
    """E-mail each customer and reseller whose balance fell below their threshold.

    One e-mail per crossing: ``Profile.low_balance_alerted_at`` is claimed with a
    conditional UPDATE (only one worker can win it) before sending, and cleared once the
    balance is back at or above the threshold. Returns how many e-mails were sent.
    """
    from accounts.models import Profile, Role

    now = now or timezone.now()
    profiles = (
        Profile.objects.filter(
            role__in=[Role.CUSTOMER, Role.RESELLER],
            vos_account__isnull=False,
            vos_account__missing_since__isnull=True,
        )
        .select_related("user", "vos_account", "vos_account__server")
        .order_by("pk")
    )
    sent = 0
    for profile in profiles.iterator(chunk_size=500):
        below = profile.vos_account.balance < profile.threshold
        if not below:
            if profile.low_balance_alerted_at is not None:
                # Re-arm, unless the row changed since it was read.
                Profile.objects.filter(
                    pk=profile.pk, low_balance_alerted_at=profile.low_balance_alerted_at
                ).update(low_balance_alerted_at=None)
            continue
        if profile.low_balance_alerted_at is not None or not profile.user.email:
            continue
        claimed = Profile.objects.filter(pk=profile.pk, low_balance_alerted_at__isnull=True).update(
            low_balance_alerted_at=now
        )
        if not claimed:
            continue
        try:
            _low_balance_mail(profile)
        except Exception:
            # Give the crossing back so the next run tries again.
            Profile.objects.filter(pk=profile.pk, low_balance_alerted_at=now).update(
                low_balance_alerted_at=None
            )
            log.exception("low-balance e-mail to %s failed", profile.user)
            continue
        sent += 1
    return sent


def _low_balance_mail(profile) -> None:
    from accounts.models import Role

    account = profile.vos_account
    places = Decimal(1).scaleb(-settings.PORTAL_AMOUNT_DECIMALS)
    amount = f"{account.balance.quantize(places)} {settings.PORTAL_CURRENCY}"
    threshold = f"{profile.threshold.quantize(places)} {settings.PORTAL_CURRENCY}"
    with translation.override(profile.language or settings.LANGUAGE_CODE):
        subject = _("%(portal)s: low balance on account %(account)s") % {
            "portal": settings.PORTAL_NAME,
            "account": account.account,
        }
        if profile.role == Role.RESELLER:
            lead = _("The balance of your reseller account %(account)s is %(amount)s.")
        else:
            lead = _("The balance of your account %(account)s is %(amount)s.")
        body = "\n\n".join(
            [
                lead % {"account": account.account, "amount": amount},
                _("It is below your alert threshold of %(threshold)s. Top up to keep calling.")
                % {"threshold": threshold},
                _("You will not be alerted again until the balance is back above the threshold."),
            ]
        )
    send_mail(subject, body, None, [profile.user.email])


# --- Retention -----------------------------------------------------------------------------


def cdrs_prune(*, before: datetime, batch_size: int = RETENTION_BATCH) -> int:
    """Delete call records that started before ``before``, a limited batch at a time."""
    deleted = 0
    while True:
        ids = list(
            Cdr.objects.filter(start__lt=before)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        with transaction.atomic():
            count, _by_model = Cdr.objects.filter(
                id__gte=ids[0], id__lte=ids[-1], start__lt=before
            ).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted


def cdrs_retention_prune(*, now: datetime | None = None) -> int:
    before = (now or timezone.now()) - timedelta(days=settings.CDR_RETENTION_DAYS)
    return cdrs_prune(before=before)


# --- Reads for pages -----------------------------------------------------------------------


def last_synced(server: VosServer | int, job: str) -> datetime | None:
    """When ``job`` last succeeded for ``server`` (a VosServer or its id); None if never."""
    server_id = server if isinstance(server, int) else server.pk
    return (
        SyncState.objects.filter(server_id=server_id, job=job)
        .values_list("last_success_at", flat=True)
        .first()
    )


def sync_states(server: VosServer | int) -> dict[str, SyncState]:
    """Every job's SyncState of a server, by job name (jobs never run are absent)."""
    server_id = server if isinstance(server, int) else server.pk
    return {s.job: s for s in SyncState.objects.filter(server_id=server_id)}
