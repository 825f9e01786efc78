"""Background money jobs (Celery). Thin: each calls one service and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from telephony.models import SyncState
from telephony.tasks import fan_out
from telephony.vos import VosError

from .models import LedgerEntry
from .services import mirror, notify, online, online_receipts, transfers, webhooks

log = logging.getLogger(__name__)

LOCK_KEY = "billing:reconcile_unknown"
LOCK_SECONDS = 600


@shared_task(acks_late=True, ignore_result=True)
def reconcile_unknown() -> str:
    """Settle unknown ledger rows against VOS pay history and finish open transfers.

    One run at a time (a cache lock); a second, overlapping run returns at once. Running it
    twice in a row changes nothing the first did not.
    """
    if not cache.add(LOCK_KEY, "1", LOCK_SECONDS):
        return "already running"
    try:
        summary = transfers.ledger_sweep()
    finally:
        cache.delete(LOCK_KEY)
    if summary.errors:
        log.warning("reconciliation: %s; errors: %s", summary, "; ".join(summary.errors[:5]))
    return str(summary)


@shared_task(acks_late=True, ignore_result=True, max_retries=20)
def movement_confirm(entry_id: int) -> str:
    """Finish one movement whose Pay answer the request stopped waiting for.

    Reconciles against the pay history (never sends a Pay twice); retried with a growing
    delay while the row is still unknown, then left to the periodic sweep.
    """
    entry = LedgerEntry.objects.select_related("server").filter(pk=entry_id).first()
    if entry is None:
        return "gone"
    transfers.transfer_advance(entry=entry)
    entry.refresh_from_db()
    if entry.state in (LedgerEntry.State.PENDING, LedgerEntry.State.UNKNOWN):
        retries = movement_confirm.request.retries or 0
        if retries < (movement_confirm.max_retries or 0):
            raise movement_confirm.retry(countdown=min(5 * 2**retries, 300))
    return entry.state


@shared_task(acks_late=True, ignore_result=True)
def receipt_email(entry_id: int) -> int:
    entry = LedgerEntry.objects.select_related("server").filter(pk=entry_id).first()
    return notify.receipt_email_send(entry=entry) if entry else 0


# How soon after a Pay is applied its account's pay history is read (the switch writes the
# record with the answer; a few seconds let a burst of top-ups share the worker).
PAY_HISTORY_DELAY_SECONDS = 5


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(VosError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=6,
)
def entry_pay_history(entry_id: int) -> int:
    """Read the pay history around one applied movement into the mirror, so the customer's
    Payments page and the reconciliation report have the switch's record within seconds
    instead of at the next hourly sync. Storing is by natural key: safe to run twice."""
    entry = LedgerEntry.objects.select_related("server").filter(pk=entry_id).first()
    if entry is None or entry.state != LedgerEntry.State.APPLIED:
        return 0
    return mirror.entry_history_fetch(entry=entry)


@shared_task(acks_late=True)
def pay_history_all() -> int:
    return fan_out(SyncState.Job.PAYMENTS)


@shared_task(acks_late=True)
def fee_reports_all() -> int:
    return fan_out(SyncState.Job.REPORTS)


@shared_task(acks_late=True)
def low_balance_alerts() -> int:
    """E-mails at most once per crossing, whoever runs it and however often."""
    return notify.low_balance_alerts_send()


@shared_task(acks_late=True, ignore_result=True, max_retries=10)
def online_credit(payment_id: int) -> str:
    """Credit one paid online payment (one ledger row, one Pay, however often it runs).

    A credit whose Pay answer was lost is confirmed by movement_confirm and the sweep.
    """
    entry = online.online_credit(payment_id=payment_id)
    return entry.state if entry else "not paid"


@shared_task(acks_late=True, ignore_result=True)
def online_reversal(entry_id: int) -> str:
    entry = online.online_reversal_apply(actor=None, entry_id=entry_id)
    return entry.state if entry else "gone"


@shared_task(acks_late=True, ignore_result=True)
def online_receipt_email(payment_id: int) -> int:
    return online_receipts.online_receipt_send(payment_id=payment_id)


@shared_task(acks_late=True, ignore_result=True)
def online_sweep() -> int:
    """Credit paid payments a lost task left waiting; expire abandoned checkouts."""
    return online.online_sweep()


@shared_task(acks_late=True, ignore_result=True)
def webhook_deliver(delivery_id: int) -> str:
    """Send one webhook delivery if it is due; safe to run twice (the row is claimed)."""
    delivery = webhooks.delivery_send(delivery_id=delivery_id)
    return delivery.state if delivery else "not due"


@shared_task(acks_late=True, ignore_result=True)
def webhooks_due() -> int:
    """Queue every due delivery (a retry whose queued task was lost is sent anyway)."""
    due = webhooks.deliveries_due()
    for delivery_id in due:
        webhook_deliver.delay(delivery_id)
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def webhook_disabled_email(endpoint_id: int) -> bool:
    return webhooks.disabled_email_send(endpoint_id=endpoint_id)
