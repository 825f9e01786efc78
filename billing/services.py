"""Money moved exactly once: the payment ledger, top-ups, reconciliation, reseller actions.

VOS3000's Pay is not idempotent and takes no request id. Every movement is therefore a
``LedgerEntry`` written (and committed) before VOS is called; the memo sent with the Pay carries
the row's id; an answer that was lost leaves the row ``unknown`` and it is settled only by
finding (or proving the absence of) the payment in GetPayHistory. Nothing here ever sends a Pay
twice for one row. See docs/MONEY.md.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Profile, Role
from accounts.scoping import reseller_agent
from telephony.models import VosAccount, VosServer
from telephony.sync import account_apply
from telephony.vos import (
    PayHistoryRecord,
    PayOutcomeUnknown,
    PayResult,
    VosError,
    VosNotFound,
    VosRejected,
    VosUnavailable,
    client_for,
)

from .models import AuditLog, LedgerEntry, PayRecord

log = logging.getLogger(__name__)

State = LedgerEntry.State
Kind = LedgerEntry.Kind

VOS_MEMO_MAX = 255
USER_MEMO_MAX = 100
# A pay-history record is looked for from sent_at - margin to sent_at + margin: the VOS clock
# may differ from ours, and the Pay may be processed a while after it was sent.
DEFAULT_RECONCILE_MARGIN = timedelta(minutes=2)
# A row claimed for sending whose process never came back (crash, kill) is treated as unknown.
PENDING_STALE_AFTER = timedelta(minutes=2)
# A prepaid transfer whose second leg failed gets its first leg credited back; a compensation
# that is itself proven not applied is tried again, a bounded number of times.
MAX_COMPENSATIONS = 5
# Rows of a transfer: the first leg has no parent, the second leg and compensations point to it.
CUSTOMER_KINDS = (Kind.TOPUP, Kind.DEDUCT)
OPEN_STATES = (State.PENDING, State.UNKNOWN)


def reconcile_margin() -> timedelta:
    seconds = getattr(settings, "LEDGER_RECONCILE_MARGIN_SECONDS", None)
    return DEFAULT_RECONCILE_MARGIN if seconds is None else timedelta(seconds=seconds)


class LedgerError(Exception):
    """A money or account action that was refused before anything was sent to VOS."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Actor:
    """Who asked, and from where (every ledger row and audit row records both)."""

    user: Any = None
    ip: str | None = None


# --- Audit --------------------------------------------------------------------------------------


def audit_log(
    *,
    actor: Actor,
    action: str,
    outcome: str,
    server: VosServer | None = None,
    account: str = "",
    **detail: Any,
) -> AuditLog:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        ip=actor.ip,
        action=action,
        server=server,
        account=account,
        outcome=outcome,
        detail={key: _jsonable(value) for key, value in detail.items()},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | datetime | date):
        return str(value)
    return value


def _entry_actor(entry: LedgerEntry) -> Actor:
    return Actor(user=entry.created_by, ip=entry.created_ip)


# --- Ledger rows --------------------------------------------------------------------------------


def ledger_vos_memo(*, entry: LedgerEntry) -> str:
    """``portal#<id>`` and the user's memo, at most 255 characters."""
    text = entry.memo_tag
    if entry.memo:
        text = f"{text} {' '.join(entry.memo.split())}"
    # Slicing a str never splits a UTF-8 sequence: the limit is in characters.
    return text[:VOS_MEMO_MAX]


def _memo_tag_of(memo: str | None) -> str | None:
    if not memo:
        return None
    head = memo.split(maxsplit=1)[0] if memo.strip() else ""
    return head if head.startswith("portal#") else None


def _settle(
    entry: LedgerEntry,
    state: str,
    *,
    from_states: Sequence[str],
    error: str = "",
    balance_after: Decimal | None = None,
    vos_record_key: str = "",
    now: datetime | None = None,
) -> bool:
    """Move ``entry`` to ``state`` if it is still in one of ``from_states``; True if moved."""
    now = now or timezone.now()
    changes: dict[str, Any] = {"state": state, "checked_at": now}
    if state in (State.APPLIED, State.FAILED):
        changes["settled_at"] = now
    if error:
        changes["error"] = error[:2000]
    if balance_after is not None:
        changes["balance_after"] = balance_after
    if vos_record_key:
        changes["vos_record_key"] = vos_record_key
    try:
        with transaction.atomic():
            moved = LedgerEntry.objects.filter(pk=entry.pk, state__in=from_states).update(**changes)
    except IntegrityError:
        # The pay-history record was claimed by another row meanwhile.
        return False
    if not moved:
        entry.refresh_from_db()
        return False
    previous = entry.state
    for name, value in changes.items():
        setattr(entry, name, value)
    audit_log(
        actor=_entry_actor(entry),
        action=f"ledger.{entry.kind}",
        outcome=state,
        server=entry.server,
        account=entry.account,
        ledger_id=entry.pk,
        amount=entry.amount,
        previous=previous,
        error=error,
        balance_after=balance_after,
    )
    if state == State.APPLIED and entry.customer_facing:
        transaction.on_commit(lambda: receipt_email_send(entry=entry))
    return True


def _mirror_balance(*, entry: LedgerEntry, balance: Decimal, read_at: datetime) -> None:
    """Store the balance VOS reported after a Pay, unless a newer reading is stored."""
    VosAccount.objects.filter(
        Q(balance_as_of__isnull=True) | Q(balance_as_of__lte=read_at),
        server_id=entry.server_id,
        account=entry.account,
    ).update(balance=balance, balance_as_of=read_at)


def ledger_send(*, entry: LedgerEntry) -> LedgerEntry:
    """Send one pending row's Pay to VOS, at most once in the row's life.

    The row is claimed by a conditional UPDATE that sets ``sent_at``: a second caller (double
    submit, a task running twice) finds it claimed and sends nothing.
    """
    now = timezone.now()
    claimed = LedgerEntry.objects.filter(
        pk=entry.pk, state=State.PENDING, sent_at__isnull=True
    ).update(sent_at=now, attempts=F("attempts") + 1)
    if not claimed:
        entry.refresh_from_db()
        return entry
    entry.sent_at = now
    client = client_for(entry.server)
    try:
        result: PayResult = client.pay(
            account=entry.account, amount=entry.amount, memo=ledger_vos_memo(entry=entry)
        )
    except VosRejected as exc:
        _settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    except PayOutcomeUnknown as exc:
        _settle(entry, State.UNKNOWN, from_states=[State.PENDING], error=exc.message)
        # Often the payment is already in the pay history: look at once.
        ledger_reconcile(entries=[entry])
        entry.refresh_from_db()
    except VosUnavailable as exc:
        # Raised by pay() only when the request certainly never reached VOS.
        _settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    else:
        if _settle(
            entry,
            State.APPLIED,
            from_states=[State.PENDING],
            balance_after=result.balance_after,
        ):
            _mirror_balance(entry=entry, balance=result.balance_after, read_at=now)
    return entry


# --- Top-ups and deductions ---------------------------------------------------------------------


@dataclass(frozen=True)
class TopupRequest:
    customer: VosAccount
    amount: Decimal  # positive
    deduct: bool
    memo: str
    idempotency_key: str


def _lock_profile(profile: Profile) -> None:
    """Serialize a reseller's submissions (caps and credit are checked under this lock)."""
    if connection.vendor == "sqlite":
        # SQLite has no row locks; a write takes the database write lock for the transaction.
        Profile.objects.filter(pk=profile.pk).update(prepaid=F("prepaid"))
    else:
        Profile.objects.select_for_update().get(pk=profile.pk)


def _today_bounds(now: datetime) -> tuple[datetime, datetime]:
    # Caps count days of the portal's time zone (TIME_ZONE), whoever is looking.
    today = timezone.localdate(now, timezone.get_default_timezone())
    start = timezone.make_aware(datetime.combine(today, time.min), timezone.get_default_timezone())
    return start, start + timedelta(days=1)


def reseller_day_total(*, agent: VosAccount, now: datetime | None = None) -> Decimal:
    """Top-ups given today (applied, pending and unknown: anything that may become money)."""
    start, end = _today_bounds(now or timezone.now())
    total = LedgerEntry.objects.filter(
        server_id=agent.server_id,
        reseller_account=agent.account,
        kind=Kind.TOPUP,
        state__in=(State.APPLIED, State.PENDING, State.UNKNOWN),
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _reseller_in_flight(*, agent: VosAccount, read_at: datetime) -> Decimal:
    """Debits of the reseller's own account that a balance read at ``read_at`` may not show.

    Open rows, and rows applied since the read. A debit counted twice only makes the check
    stricter, never looser.
    """
    total = LedgerEntry.objects.filter(
        Q(state__in=OPEN_STATES) | Q(state=State.APPLIED, settled_at__gte=read_at),
        server_id=agent.server_id,
        account=agent.account,
        amount__lt=0,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal("0"))


def topup_caps_check(*, profile: Profile, agent: VosAccount, amount: Decimal, deduct: bool) -> None:
    """Per-transaction and per-day caps; LedgerError naming the amount field."""
    if amount > profile.topup_cap_per_transaction:
        raise LedgerError(
            _("The most you can move in one transaction is %(cap)s.")
            % {"cap": _fmt(profile.topup_cap_per_transaction)},
            field="amount",
        )
    if deduct:
        return
    used = reseller_day_total(agent=agent)
    if used + amount > profile.topup_cap_per_day:
        left = max(Decimal("0"), profile.topup_cap_per_day - used)
        raise LedgerError(
            _("This is over your daily top-up limit of %(cap)s: %(left)s is left today.")
            % {"cap": _fmt(profile.topup_cap_per_day), "left": _fmt(left)},
            field="amount",
        )


def _fmt(amount: Decimal) -> str:
    places = Decimal(1).scaleb(-settings.PORTAL_AMOUNT_DECIMALS)
    return f"{amount.quantize(places)} {settings.PORTAL_CURRENCY}"


def ledger_entry_for_key(*, idempotency_key: str, user) -> LedgerEntry | None:
    """The row an earlier submit of this form made, if any (only the same user's)."""
    entry = (
        LedgerEntry.objects.select_related("server").filter(idempotency_key=idempotency_key).first()
    )
    if entry is None:
        return None
    if entry.created_by_id != user.pk:
        raise LedgerError(_("This form has expired. Please start again."))
    return entry


def topup_submit(*, user, ip: str | None, request: TopupRequest) -> LedgerEntry:
    """Top up (or deduct from) one of the reseller's customers; return the customer's row.

    A repeated submit with the same idempotency key returns the first submit's row and sends
    nothing. Refusals (caps, the prepaid reseller's credit) raise LedgerError before anything
    is written or sent. VOS outcomes are recorded on the row, never raised.
    """
    existing = ledger_entry_for_key(idempotency_key=request.idempotency_key, user=user)
    if existing is not None:
        return existing
    actor = Actor(user=user, ip=ip)
    profile: Profile = user.profile
    agent = reseller_agent(user)
    customer = request.customer
    if customer.server_id != agent.server_id or customer.agent_account != agent.account:
        raise LedgerError(_("No customer with this account."), field="account")
    if request.amount <= 0:
        raise LedgerError(_("Enter an amount greater than zero."), field="amount")

    prepaid = profile.prepaid
    fresh_money: Decimal | None = None
    read_at = timezone.now()
    if prepaid and not request.deduct:
        try:
            own = client_for(agent.server).get_customer(agent.account)
        except VosError as exc:
            audit_log(
                actor=actor,
                action="topup.refused",
                outcome="vos_unavailable",
                server=agent.server,
                account=customer.account,
                amount=request.amount,
                error=exc.message,
            )
            raise LedgerError(
                _(
                    "Your own balance cannot be checked right now, so nothing was sent. "
                    "Please try again in a minute."
                )
            ) from exc
        account_apply(server=agent.server, customer=own, read_at=read_at)
        fresh_money = own.money

    kind = Kind.DEDUCT if request.deduct else Kind.TOPUP
    signed = -request.amount if request.deduct else request.amount
    try:
        with transaction.atomic():
            _lock_profile(profile)
            again = LedgerEntry.objects.filter(idempotency_key=request.idempotency_key).first()
            if again is not None:
                return ledger_entry_for_key(idempotency_key=request.idempotency_key, user=user)
            profile.refresh_from_db()
            try:
                topup_caps_check(
                    profile=profile, agent=agent, amount=request.amount, deduct=request.deduct
                )
                if fresh_money is not None:
                    available = fresh_money - _reseller_in_flight(agent=agent, read_at=read_at)
                    if request.amount > available:
                        raise LedgerError(
                            _("You hold %(available)s; a top-up cannot be larger than that.")
                            % {"available": _fmt(max(available, Decimal("0")))},
                            field="amount",
                        )
            except LedgerError as exc:
                audit_log(
                    actor=actor,
                    action=f"{kind}.refused",
                    outcome="refused",
                    server=agent.server,
                    account=customer.account,
                    amount=request.amount,
                    error=exc.message,
                )
                raise
            common = {
                "server": agent.server,
                "reseller_account": agent.account,
                "memo": request.memo[:USER_MEMO_MAX],
                "created_by": user,
                "created_ip": ip,
            }
            customer_row = LedgerEntry(
                account=customer.account,
                amount=signed,
                kind=kind,
                idempotency_key=request.idempotency_key,
                **common,
            )
            if not prepaid:
                customer_row.save()
            elif not request.deduct:
                # Take the reseller's money first, then give it to the customer.
                first = LedgerEntry.objects.create(
                    account=agent.account,
                    amount=-request.amount,
                    kind=Kind.RESELLER_DEBIT,
                    idempotency_key=f"{request.idempotency_key}:leg1",
                    **common,
                )
                customer_row.parent = first
                customer_row.save()
            else:
                customer_row.save()
                LedgerEntry.objects.create(
                    account=agent.account,
                    amount=request.amount,
                    kind=Kind.RESELLER_CREDIT,
                    idempotency_key=f"{request.idempotency_key}:leg2",
                    parent=customer_row,
                    **common,
                )
            audit_log(
                actor=actor,
                action=f"{kind}.requested",
                outcome="pending",
                server=agent.server,
                account=customer.account,
                ledger_id=customer_row.pk,
                amount=signed,
                prepaid=prepaid,
            )
    except IntegrityError:
        # The same key committed by a concurrent submit.
        existing = ledger_entry_for_key(idempotency_key=request.idempotency_key, user=user)
        if existing is None:
            raise
        return existing
    transfer_advance(entry=customer_row)
    customer_row.refresh_from_db()
    return customer_row


def transfer_rows(entry: LedgerEntry) -> tuple[LedgerEntry, LedgerEntry | None, list[LedgerEntry]]:
    """(first leg, second leg or None, compensations) of the transfer ``entry`` belongs to."""
    root = entry.parent if entry.parent_id else entry
    children = list(LedgerEntry.objects.filter(parent=root).order_by("pk"))
    second = next((row for row in children if row.kind != Kind.COMPENSATION), None)
    compensations = [row for row in children if row.kind == Kind.COMPENSATION]
    return root, second, compensations


def _step(entry: LedgerEntry, now: datetime) -> None:
    """Move one row as far as it can go now without ever sending a Pay twice."""
    if entry.state == State.PENDING and entry.sent_at is None:
        ledger_send(entry=entry)
    elif entry.state == State.PENDING and entry.sent_at < now - PENDING_STALE_AFTER:
        _settle(
            entry,
            State.UNKNOWN,
            from_states=[State.PENDING],
            error="no answer recorded (process stopped while sending)",
            now=now,
        )
    if entry.state == State.UNKNOWN:
        ledger_reconcile(entries=[entry], now=now)
        entry.refresh_from_db()


def transfer_advance(*, entry: LedgerEntry, now: datetime | None = None) -> None:
    """Drive a movement (one row, or a prepaid transfer's two legs) towards its end state.

    Second legs are sent only once the first is applied; a first leg that failed fails the
    second unsent; a second leg that failed has the first credited back (compensated).
    Safe to call any number of times, from a request or from the periodic task.
    """
    now = now or timezone.now()
    first, second, compensations = transfer_rows(entry)
    _step(first, now)
    if second is None:
        return
    if first.state == State.FAILED:
        if second.state == State.PENDING and second.sent_at is None:
            _settle(
                second,
                State.FAILED,
                from_states=[State.PENDING],
                error="not sent: the first leg failed",
                now=now,
            )
        return
    if first.state != State.APPLIED:
        return
    _step(second, now)
    if second.state != State.FAILED:
        return
    for row in compensations:
        if row.state in OPEN_STATES:
            _step(row, now)
    if any(row.state == State.APPLIED for row in compensations):
        return
    if any(row.state in OPEN_STATES for row in compensations):
        return
    if len(compensations) >= MAX_COMPENSATIONS:
        log.error(
            "transfer #%s: %d compensations failed; staff must settle it",
            first.pk,
            len(compensations),
        )
        return
    base = first.idempotency_key.split(":")[0]
    try:
        compensation = LedgerEntry.objects.create(
            server=first.server,
            account=first.account,
            amount=-first.amount,
            kind=Kind.COMPENSATION,
            idempotency_key=f"{base}:comp{len(compensations) + 1}",
            reseller_account=first.reseller_account,
            parent=first,
            memo=f"undo portal#{first.pk}",
            created_by=first.created_by,
            created_ip=first.created_ip,
        )
    except IntegrityError:
        return  # created by a concurrent run; that run sends it
    _step(compensation, now)


# --- Reconciliation -----------------------------------------------------------------------------


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
    *, entries: Iterable[LedgerEntry] | None = None, now: datetime | None = None
) -> ReconcileSummary:
    """Settle unknown rows against VOS pay history.

    By memo (``portal#<id>``) where the server returns memos; otherwise by account, amount,
    pay time within sent_at ± margin, and one record per row at most (records already
    matched to rows, or belonging to rows applied with a known balance, are not candidates).
    A row is failed only when its window has closed and nothing matches. If GetPayHistory
    cannot be read, rows stay unknown for the next run.
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
        client = client_for(server)
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
        elif tag := _memo_tag_of(record.memo):
            by_tag.setdefault(tag, record)

    if memo_less:
        # Records of rows applied with a known answer are theirs: match them by amount and
        # balance after, and remember the match so later runs need not do it again.
        known = LedgerEntry.objects.filter(
            server=server,
            account=account,
            state=State.APPLIED,
            vos_record_key="",
            balance_after__isnull=False,
            sent_at__gte=begin - margin,
            sent_at__lte=end + margin,
        ).order_by("sent_at")
        for applied in known:
            for record in memo_less:
                key = record.natural_key
                if (
                    key not in claimed
                    and record.fee == applied.amount
                    and record.balance_after == applied.balance_after
                ):
                    claimed.add(key)
                    try:
                        with transaction.atomic():
                            LedgerEntry.objects.filter(pk=applied.pk, vos_record_key="").update(
                                vos_record_key=key
                            )
                    except IntegrityError:
                        pass
                    break
    # A row still being sent may own a memo-less record we cannot tell apart: wait for it.
    in_flight = LedgerEntry.objects.filter(
        server=server, account=account, state=State.PENDING, sent_at__isnull=False
    ).exists()

    for row in rows:
        window_closed = now > row.sent_at + margin
        record = by_tag.get(row.memo_tag)
        if record is None and memo_less and not in_flight:
            candidates = [
                r
                for r in memo_less
                if r.natural_key not in claimed
                and r.fee == row.amount
                and abs(r.pay_time - row.sent_at) <= margin
            ]
            if candidates:
                record = min(candidates, key=lambda r: abs(r.pay_time - row.sent_at))
        if record is not None:
            claimed.add(record.natural_key)
            if _settle(
                row,
                State.APPLIED,
                from_states=[State.UNKNOWN],
                balance_after=record.balance_after,
                vos_record_key=record.natural_key,
                now=now,
            ):
                summary.applied += 1
                if record.balance_after is not None:
                    _mirror_balance(
                        entry=row, balance=record.balance_after, read_at=record.pay_time
                    )
            continue
        if window_closed and not (memo_less and in_flight):
            if _settle(
                row,
                State.FAILED,
                from_states=[State.UNKNOWN],
                now=now,
                error=f"{row.error}; not in VOS pay history (reconciled)".lstrip("; "),
            ):
                summary.failed += 1
            continue
        LedgerEntry.objects.filter(pk=row.pk).update(checked_at=now)
        summary.still_unknown += 1


def ledger_sweep(*, now: datetime | None = None) -> ReconcileSummary:
    """The periodic pass: reconcile unknown rows, then finish every open movement.

    Pending rows never sent (the request stopped before sending) are failed once stale;
    second legs and compensations are sent when their first leg allows.
    """
    now = now or timezone.now()
    stale = now - PENDING_STALE_AFTER
    for entry in LedgerEntry.objects.filter(
        state=State.PENDING, sent_at__isnull=False, sent_at__lt=stale
    ):
        _settle(
            entry,
            State.UNKNOWN,
            from_states=[State.PENDING],
            now=now,
            error="no answer recorded (process stopped while sending)",
        )
    # A first leg or a single row nobody sent: the user has gone, never send it late.
    for entry in LedgerEntry.objects.filter(
        state=State.PENDING, sent_at__isnull=True, parent__isnull=True, created_at__lt=stale
    ):
        _settle(
            entry,
            State.FAILED,
            from_states=[State.PENDING],
            now=now,
            error="never sent (request stopped before sending)",
        )
    summary = ledger_reconcile(now=now)
    # Transfers with a leg or compensation still to do.
    roots = set(
        LedgerEntry.objects.filter(parent__isnull=False)
        .filter(
            Q(state__in=OPEN_STATES)
            | Q(state=State.FAILED, kind__in=[Kind.TOPUP, Kind.RESELLER_CREDIT, Kind.COMPENSATION])
        )
        .filter(created_at__gte=now - timedelta(days=30))
        .values_list("parent_id", flat=True)
    )
    done = LedgerEntry.objects.filter(
        parent_id__in=roots, kind=Kind.COMPENSATION, state=State.APPLIED
    ).values_list("parent_id", flat=True)
    for root in (
        LedgerEntry.objects.filter(pk__in=roots).exclude(pk__in=done).select_related("server")
    ):
        transfer_advance(entry=root, now=now)
    summary.still_unknown = LedgerEntry.objects.filter(state=State.UNKNOWN).count()
    return summary


# --- E-mail -------------------------------------------------------------------------------------


def receipt_email_send(*, entry: LedgerEntry) -> int:
    """Tell the customer their balance moved (portal users of the account with an e-mail)."""
    profiles = Profile.objects.filter(
        role=Role.CUSTOMER,
        vos_account__server_id=entry.server_id,
        vos_account__account=entry.account,
    ).select_related("user")
    sent = 0
    for profile in profiles:
        email = profile.user.email
        if not email:
            continue
        language = profile.language or settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "entry": entry,
                "PORTAL_NAME": settings.PORTAL_NAME,
                "PORTAL_CURRENCY": settings.PORTAL_CURRENCY,
                "amount": abs(entry.amount),
            }
            subject = render_to_string("billing/email/receipt_subject.txt", context).strip()
            body = render_to_string("billing/email/receipt_body.txt", context)
        try:
            send_mail(subject, body, None, [email])
            sent += 1
        except Exception:  # a mail outage must not undo or hide a settled payment
            log.exception("receipt e-mail for ledger #%s to %s failed", entry.pk, email)
    return sent


# --- Reseller account actions -------------------------------------------------------------------


def _refresh_mirror(*, server: VosServer, account: str) -> None:
    read_at = timezone.now()
    try:
        customer = client_for(server).get_customer(account)
    except VosError as exc:
        log.warning("mirror refresh of %s/%s failed: %s", server, account, exc)
        return
    account_apply(server=server, customer=customer, read_at=read_at)


def customer_lock_set(*, actor: Actor, customer: VosAccount, locked: bool) -> VosAccount:
    """Lock or unlock one customer (ModifyCustomer lockType). VosError propagates."""
    action = "customer.lock" if locked else "customer.unlock"
    try:
        client_for(customer.server).modify_customer(
            account=customer.account, lock_type=1 if locked else 0
        )
    except VosError as exc:
        audit_log(
            actor=actor,
            action=action,
            outcome=_outcome(exc),
            server=customer.server,
            account=customer.account,
            error=exc.message,
        )
        raise
    audit_log(
        actor=actor, action=action, outcome="ok", server=customer.server, account=customer.account
    )
    VosAccount.objects.filter(pk=customer.pk).update(locked=locked)
    _refresh_mirror(server=customer.server, account=customer.account)
    customer.refresh_from_db()
    return customer


def customer_limit_set(*, actor: Actor, customer: VosAccount, limit_money: Decimal) -> VosAccount:
    """Change one customer's overdraft limit (ModifyCustomer limitMoney)."""
    previous = customer.limit_money
    try:
        client_for(customer.server).modify_customer(
            account=customer.account, limit_money=limit_money
        )
    except VosError as exc:
        audit_log(
            actor=actor,
            action="customer.limit",
            outcome=_outcome(exc),
            server=customer.server,
            account=customer.account,
            limit_money=limit_money,
            error=exc.message,
        )
        raise
    audit_log(
        actor=actor,
        action="customer.limit",
        outcome="ok",
        server=customer.server,
        account=customer.account,
        limit_money=limit_money,
        previous=previous,
    )
    VosAccount.objects.filter(pk=customer.pk).update(limit_money=limit_money)
    _refresh_mirror(server=customer.server, account=customer.account)
    customer.refresh_from_db()
    return customer


def _outcome(exc: VosError) -> str:
    return "rejected" if isinstance(exc, VosRejected) else "vos_unavailable"


@dataclass
class CustomerCreated:
    account: VosAccount
    phone_error: str = ""
    invitation_error: str = ""
    invited: bool = False


def customer_create(
    *,
    actor: Actor,
    agent: VosAccount,
    account: str,
    name: str,
    limit_money: Decimal,
    e164: str,
    web_password: str,
    email: str = "",
    request=None,
) -> CustomerCreated:
    """A VOS account under the reseller, its phone, and a portal invitation.

    CreateCustomer errors propagate (nothing was created). A phone or invitation that fails
    after the account exists is reported on the result, not raised: the account stays.
    """
    server = agent.server
    client = client_for(server)
    try:
        client.create_customer(
            account=account,
            name=name or account,
            agent_account=agent.account,
            limit_money=limit_money,
            email=email,
        )
    except VosUnavailable as exc:
        # The answer was lost: the account may exist now. Ask before saying anything.
        try:
            existing = client.get_customer(account)
        except VosError:
            existing = None
        if existing is None or existing.agent_account != agent.account:
            audit_log(
                actor=actor,
                action="customer.create",
                outcome="vos_unavailable",
                server=server,
                account=account,
                error=exc.message,
            )
            raise
    except VosRejected as exc:
        audit_log(
            actor=actor,
            action="customer.create",
            outcome="rejected",
            server=server,
            account=account,
            error=exc.message,
        )
        raise
    audit_log(
        actor=actor,
        action="customer.create",
        outcome="ok",
        server=server,
        account=account,
        name=name,
        limit_money=limit_money,
        e164=e164,
    )
    read_at = timezone.now()
    try:
        fresh = client.get_customer(account)
        account_apply(server=server, customer=fresh, read_at=read_at)
    except VosNotFound:
        pass
    except VosError as exc:
        log.warning("reading new customer %s failed: %s", account, exc)
    vos_account, _created = VosAccount.objects.get_or_create(
        server=server,
        account=account,
        defaults={
            "name": (name or account)[:64],
            "agent_account": agent.account,
            "limit_money": limit_money,
        },
    )
    result = CustomerCreated(account=vos_account)
    if e164:
        try:
            client.create_phone(e164=e164, account=account, customer_password=web_password)
        except VosError as exc:
            result.phone_error = exc.message
            audit_log(
                actor=actor,
                action="phone.create",
                outcome=_outcome(exc),
                server=server,
                account=account,
                e164=e164,
                error=exc.message,
            )
        else:
            audit_log(
                actor=actor,
                action="phone.create",
                outcome="ok",
                server=server,
                account=account,
                e164=e164,
            )
    if email:
        result.invited, result.invitation_error = _invite(
            actor=actor, email=email, vos_account=vos_account, request=request
        )
    return result


def _invite(*, actor: Actor, email: str, vos_account: VosAccount, request=None) -> tuple[bool, str]:
    """Send a portal login invitation (accounts.services.invitation_send)."""
    from accounts.services import invitation_send

    try:
        invitation_send(
            email=email,
            vos_account=vos_account,
            invited_by=actor.user,
            role=Role.CUSTOMER,
            request=request,
        )
    except Exception as exc:  # the account exists: report, don't undo it
        log.exception("invitation to %s failed", email)
        audit_log(
            actor=actor,
            action="invitation.send",
            outcome="error",
            server=vos_account.server,
            account=vos_account.account,
            email=email,
        )
        return False, str(exc)
    audit_log(
        actor=actor,
        action="invitation.send",
        outcome="ok",
        server=vos_account.server,
        account=vos_account.account,
        email=email,
    )
    return True, ""


# --- Reconciliation report (staff) --------------------------------------------------------------


@dataclass
class ReportRow:
    server: VosServer
    account: str
    day: date
    ledger_total: Decimal = Decimal("0")
    ledger_count: int = 0
    vos_total: Decimal = Decimal("0")
    vos_count: int = 0
    open_count: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconciliation_report(
    *,
    first: date,
    last: date,
    server: VosServer | None = None,
    account: str = "",
    mismatches_only: bool = False,
) -> list[ReportRow]:
    """Ledger vs the VOS pay-history mirror (PayRecord) per account and day.

    An applied ledger row is found in VOS by its memo (``portal#<id>``), or, on servers that
    return no memos, by a memo-less payment of the same account, day and amount (each payment
    used once). Portal payments in VOS that the ledger does not show applied, duplicates, and
    rows still open are listed too. Days are those of the current time zone.
    """
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    ledger = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(state=State.FAILED)
        .select_related("server")
    )
    records = PayRecord.objects.filter(paid_at__gte=start, paid_at__lt=end).select_related("server")
    if server is not None:
        ledger = ledger.filter(server=server)
        records = records.filter(server=server)
    if account:
        ledger = ledger.filter(account=account)
        records = records.filter(account=account)
    rows: dict[tuple[int, str, date], ReportRow] = {}

    def row_for(srv: VosServer, acct: str, moment: datetime) -> ReportRow:
        day = timezone.localtime(moment, tz).date()
        key = (srv.pk, acct, day)
        if key not in rows:
            rows[key] = ReportRow(server=srv, account=acct, day=day)
        return rows[key]

    applied: dict[int, LedgerEntry] = {}
    for entry in ledger.iterator():
        row = row_for(entry.server, entry.account, entry.created_at)
        if entry.state == State.APPLIED:
            row.ledger_total += entry.amount
            row.ledger_count += 1
            applied[entry.pk] = entry
        else:
            row.open_count += 1
            row.problems.append(
                _("#%(id)s is still %(state)s")
                % {"id": entry.pk, "state": entry.get_state_display()}
            )
    tagged: dict[int, list[PayRecord]] = defaultdict(list)
    memo_less: dict[tuple[int, str, date], list[PayRecord]] = defaultdict(list)
    for record in records.iterator():
        tag = _memo_tag_of(record.memo)
        number = tag.partition("#")[2] if tag else ""
        if number.isdigit():
            tagged[int(number)].append(record)
        elif not record.memo:
            day = timezone.localtime(record.paid_at, tz).date()
            memo_less[(record.server_id, record.account, day)].append(record)
    for pk, found in tagged.items():
        record = found[0]
        row = row_for(record.server, record.account, record.paid_at)
        row.vos_total += sum((r.amount for r in found), Decimal("0"))
        row.vos_count += len(found)
        entry = applied.get(pk)
        if len(found) > 1:
            row.problems.append(
                _("#%(id)s appears %(n)s times in VOS") % {"id": pk, "n": len(found)}
            )
        if entry is None:
            row.problems.append(
                _("VOS has portal#%(id)s; the ledger does not show it applied") % {"id": pk}
            )
        elif entry.amount != record.amount:
            row.problems.append(
                _("#%(id)s: ledger %(ledger)s, VOS %(vos)s")
                % {"id": pk, "ledger": entry.amount, "vos": record.amount}
            )
    for pk, entry in applied.items():
        if pk in tagged:
            continue
        row = row_for(entry.server, entry.account, entry.created_at)
        candidates = memo_less.get((entry.server_id, entry.account, row.day), [])
        match = next((r for r in candidates if r.amount == entry.amount), None)
        if match is not None:
            candidates.remove(match)
            row.vos_total += match.amount
            row.vos_count += 1
        else:
            row.problems.append(
                _("#%(id)s is applied in the ledger but not in VOS pay history") % {"id": pk}
            )
    result = sorted(rows.values(), key=lambda r: (r.day, r.server.name, r.account), reverse=True)
    if mismatches_only:
        result = [row for row in result if not row.ok]
    return result


def pay_history_fetch(
    *, server: VosServer, accounts: Iterable[str], begin: datetime, end: datetime
) -> int:
    """Read VOS pay history of ``accounts`` into the PayRecord mirror; rows added.

    Idempotent: records are keyed by their natural key.
    """
    client = client_for(server)
    added = 0
    for account in sorted(set(accounts)):
        history = client.get_pay_history(account=account, begin=begin, end=end)
        objs = [
            PayRecord(
                server=server,
                natural_key=r.natural_key,
                account=r.account,
                amount=r.fee,
                type=r.type,
                pay_type=r.pay_type,
                balance_after=r.balance_after,
                paid_at=r.pay_time,
                memo=(r.memo or "")[:255],
            )
            for r in history
        ]
        before = PayRecord.objects.filter(server=server, account=account).count()
        PayRecord.objects.bulk_create(objs, ignore_conflicts=True)
        added += PayRecord.objects.filter(server=server, account=account).count() - before
    return added


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
