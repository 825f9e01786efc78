"""Ledger rows: the memo VOS gets, moving a row between states, the idempotency key.

VOS3000's Pay is not idempotent and takes no request id. Every movement is therefore a
``LedgerEntry`` written (and committed) before VOS is called; the memo sent with the Pay carries
the row's id; an answer that was lost leaves the row ``unknown`` and it is settled only by
finding (or proving the absence of) the payment in GetPayHistory. Nothing here ever sends a Pay
twice for one row. See docs/MONEY.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.audit import Actor, audit_log
from telephony.errors import Refused
from telephony.models import VosServer
from telephony.services.mirror import balance_apply
from telephony.vos import VosClient, client_for, deadline_client_for

from ..models import LedgerEntry
from ..signals import ledger_entry_settled

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
# A request never asks VOS with less time than this left (a Pay gets at least this long).
MIN_WAIT_SECONDS = 1.0


def reconcile_margin() -> timedelta:
    seconds = getattr(settings, "LEDGER_RECONCILE_MARGIN_SECONDS", None)
    return DEFAULT_RECONCILE_MARGIN if seconds is None else timedelta(seconds=seconds)


class LedgerError(Refused):
    """A money action refused before anything was sent to VOS."""


def entry_actor(entry: LedgerEntry) -> Actor:
    return Actor(user=entry.created_by, ip=entry.created_ip)


def ledger_vos_memo(*, entry: LedgerEntry) -> str:
    """``portal#<id>`` and the user's memo, at most 255 characters."""
    text = entry.memo_tag
    if entry.memo:
        text = f"{text} {' '.join(entry.memo.split())}"
    # Slicing a str never splits a UTF-8 sequence: the limit is in characters.
    return text[:VOS_MEMO_MAX]


def memo_tag_of(memo: str | None) -> str | None:
    if not memo:
        return None
    head = memo.split(maxsplit=1)[0] if memo.strip() else ""
    return head if head.startswith("portal#") else None


def settle(
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
        actor=entry_actor(entry),
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
    # Receipts, webhooks: billing.receivers (after the commit; never inline in a request).
    ledger_entry_settled.send(sender=LedgerEntry, entry=entry, previous=previous)
    return True


def has_time(deadline: float | None) -> bool:
    """Whether a request with this budget (time.monotonic() deadline) may ask VOS again."""
    return deadline is None or deadline - monotonic() >= MIN_WAIT_SECONDS


def bounded_client(server: VosServer, deadline: float | None) -> VosClient:
    """The server's client; with a ``deadline``, one whose timeouts end by then (no retries)."""
    if deadline is None:
        return client_for(server)
    # At least MIN_WAIT_SECONDS, as has_time() promised the caller.
    return deadline_client_for(server, max(deadline, monotonic() + MIN_WAIT_SECONDS))


def mirror_balance(*, entry: LedgerEntry, balance: Decimal, read_at: datetime) -> None:
    """Store the balance VOS reported after a Pay, unless a newer reading is stored."""
    balance_apply(server=entry.server_id, account=entry.account, money=balance, read_at=read_at)


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


def new_idempotency_key() -> str:
    return str(uuid.uuid4())
