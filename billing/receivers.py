"""What follows a ledger row's move: the customer's receipt, the pay-history read that brings
the switch's record into the mirror, and the background confirmation of a Pay whose answer was
lost or not waited for; all queued after the commit."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from .models import LedgerEntry
from .signals import ledger_entry_settled
from .tasks import PAY_HISTORY_DELAY_SECONDS, entry_pay_history, movement_confirm, receipt_email


@receiver(ledger_entry_settled, dispatch_uid="billing.receipt")
def _queue_receipt(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.APPLIED and entry.customer_facing:
        entry_id = entry.pk
        transaction.on_commit(lambda: receipt_email.delay(entry_id))


@receiver(ledger_entry_settled, dispatch_uid="billing.confirm")
def _queue_confirmation(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.UNKNOWN:
        root_id = entry.parent_id or entry.pk
        transaction.on_commit(lambda: movement_confirm.apply_async((root_id,), countdown=2))


@receiver(ledger_entry_settled, dispatch_uid="billing.pay_history")
def _queue_pay_history(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.APPLIED:
        entry_id = entry.pk
        transaction.on_commit(
            lambda: entry_pay_history.apply_async((entry_id,), countdown=PAY_HISTORY_DELAY_SECONDS)
        )
