"""What follows a settled ledger row: the customer's receipt, queued after the commit."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from .models import LedgerEntry
from .signals import ledger_entry_settled
from .tasks import receipt_email


@receiver(ledger_entry_settled, dispatch_uid="billing.receipt")
def _queue_receipt(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.APPLIED and entry.customer_facing:
        entry_id = entry.pk
        transaction.on_commit(lambda: receipt_email.delay(entry_id))
