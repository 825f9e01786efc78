"""Sending a ledger row's Pay, and driving a movement (one row or a prepaid transfer's legs)
to its end state. See docs/MONEY.md.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from telephony.vos import PayOutcomeUnknown, PayResult, VosRejected, VosUnavailable

from ..models import LedgerEntry
from .ledger import (
    MAX_COMPENSATIONS,
    OPEN_STATES,
    PENDING_STALE_AFTER,
    Kind,
    State,
    bounded_client,
    has_time,
    ledger_vos_memo,
    mirror_balance,
    settle,
)
from .reconcile import ReconcileSummary, ledger_reconcile

log = logging.getLogger(__name__)


def ledger_send(*, entry: LedgerEntry, deadline: float | None = None) -> LedgerEntry:
    """Send one pending row's Pay to VOS, at most once in the row's life.

    The row is claimed by a conditional UPDATE that sets ``sent_at``: a second caller (double
    submit, a task running twice) finds it claimed and sends nothing. With a ``deadline``
    (time.monotonic(); a request's budget) the Pay waits no longer than that; an answer that
    does not come by then leaves the row unknown, for the background confirmation. Once the
    row is claimed nothing is raised: an unexpected error also leaves it unknown.
    """
    now = timezone.now()
    if entry.kind == Kind.CARD:
        # A card row is sent only by the request that holds its password (cards.card_send);
        # one nobody sent is failed by the sweep once stale.
        return entry
    claimed = (
        LedgerEntry.objects.filter(pk=entry.pk, state=State.PENDING, sent_at__isnull=True)
        .exclude(kind=Kind.CARD)
        .update(sent_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        entry.refresh_from_db()
        return entry
    entry.sent_at = now
    try:
        result: PayResult = bounded_client(entry.server, deadline).pay(
            account=entry.account, amount=entry.amount, memo=ledger_vos_memo(entry=entry)
        )
    except VosRejected as exc:
        settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    except PayOutcomeUnknown as exc:
        settle(entry, State.UNKNOWN, from_states=[State.PENDING], error=exc.message)
        # Often the payment is already in the pay history: look at once, if time is left.
        if has_time(deadline):
            ledger_reconcile(entries=[entry], deadline=deadline)
            entry.refresh_from_db()
    except VosUnavailable as exc:
        # Raised by pay() only when the request certainly never reached VOS.
        settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    except Exception as exc:  # the Pay may have been applied: never a 500, never resent
        log.exception("ledger #%s: unexpected error after sending", entry.pk)
        settle(entry, State.UNKNOWN, from_states=[State.PENDING], error=f"{type(exc).__name__}")
    else:
        if settle(
            entry,
            State.APPLIED,
            from_states=[State.PENDING],
            balance_after=result.balance_after,
        ):
            mirror_balance(entry=entry, balance=result.balance_after, read_at=now)
    return entry


def transfer_rows(entry: LedgerEntry) -> tuple[LedgerEntry, LedgerEntry | None, list[LedgerEntry]]:
    """(first leg, second leg or None, compensations) of the transfer ``entry`` belongs to."""
    root = entry.parent if entry.parent_id else entry
    children = list(LedgerEntry.objects.filter(parent=root).order_by("pk"))
    second = next((row for row in children if row.kind != Kind.COMPENSATION), None)
    compensations = [row for row in children if row.kind == Kind.COMPENSATION]
    return root, second, compensations


def _step(entry: LedgerEntry, now: datetime, deadline: float | None = None) -> None:
    """Move one row as far as it can go now without ever sending a Pay twice."""
    if entry.state == State.PENDING and entry.sent_at is None:
        ledger_send(entry=entry, deadline=deadline)
    elif entry.state == State.PENDING and entry.sent_at < now - PENDING_STALE_AFTER:
        settle(
            entry,
            State.UNKNOWN,
            from_states=[State.PENDING],
            error="no answer recorded (process stopped while sending)",
            now=now,
        )
    if entry.state == State.UNKNOWN and has_time(deadline):
        ledger_reconcile(entries=[entry], now=now, deadline=deadline)
        entry.refresh_from_db()


def transfer_advance(
    *, entry: LedgerEntry, now: datetime | None = None, deadline: float | None = None
) -> None:
    """Drive a movement (one row, or a prepaid transfer's two legs) towards its end state.

    Second legs are sent only once the first is applied; a first leg that failed fails the
    second unsent; a second leg that failed has the first credited back (compensated).
    Safe to call any number of times, from a request (with its ``deadline``) or from a task.
    """
    now = now or timezone.now()
    first, second, compensations = transfer_rows(entry)
    _step(first, now, deadline)
    if second is None:
        return
    if first.state == State.FAILED:
        if second.state == State.PENDING and second.sent_at is None:
            settle(
                second,
                State.FAILED,
                from_states=[State.PENDING],
                error="not sent: the first leg failed",
                now=now,
            )
        return
    if first.state != State.APPLIED:
        return
    # The second leg is sent even when the budget is spent: it waits its minimum.
    _step(second, now, deadline)
    if second.state == State.FAILED:
        _compensate(first, compensations, now, deadline)


def _compensate(
    first: LedgerEntry, compensations: list[LedgerEntry], now: datetime, deadline: float | None
) -> None:
    """Credit a transfer's first leg back once its second leg failed (bounded attempts)."""
    for row in compensations:
        if row.state in OPEN_STATES:
            _step(row, now, deadline)
    if any(row.state in (State.APPLIED, *OPEN_STATES) for row in compensations):
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
    _step(compensation, now, deadline)


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
        settle(
            entry,
            State.UNKNOWN,
            from_states=[State.PENDING],
            now=now,
            error="no answer recorded (process stopped while sending)",
        )
    # A first leg or a single row nobody sent: the user has gone, never send it late.
    # Online credits and held refund deductions are not a user's request: they are sent by
    # billing.services.online (the sweep, or staff), however late.
    for entry in LedgerEntry.objects.filter(
        state=State.PENDING, sent_at__isnull=True, parent__isnull=True, created_at__lt=stale
    ).exclude(kind__in=[Kind.ONLINE, Kind.ONLINE_REVERSAL]):
        settle(
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
