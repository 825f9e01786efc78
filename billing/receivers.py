"""What follows a ledger row's move: the customer's receipt, the pay-history read that brings
the switch's record into the mirror, the background confirmation of a Pay whose answer was
lost or not waited for, online payments' credit and receipt (all queued after the commit),
and the webhook events of settled movements and account actions."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from accounts.signals import customer_event

from .models import LedgerEntry
from .services import webhooks
from .services.online import online_credit_settled
from .signals import ledger_entry_settled, online_payment_paid, online_reversal_created
from .tasks import (
    PAY_HISTORY_DELAY_SECONDS,
    entry_pay_history,
    movement_confirm,
    online_credit,
    online_receipt_email,
    online_reversal,
    receipt_email,
)


@receiver(ledger_entry_settled, dispatch_uid="billing.receipt")
def _queue_receipt(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.APPLIED and entry.customer_facing:
        entry_id = entry.pk
        transaction.on_commit(lambda: receipt_email.delay(entry_id), robust=True)


@receiver(ledger_entry_settled, dispatch_uid="billing.confirm")
def _queue_confirmation(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.UNKNOWN:
        root_id = entry.parent_id or entry.pk
        transaction.on_commit(
            lambda: movement_confirm.apply_async((root_id,), countdown=2), robust=True
        )


@receiver(ledger_entry_settled, dispatch_uid="billing.online_settled")
def _online_settled(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    # The credit row's end state (directly or by reconciliation) moves the payment once.
    if online_credit_settled(entry=entry) and entry.state == LedgerEntry.State.APPLIED:
        payment_id = entry.online_payment_id
        transaction.on_commit(lambda: online_receipt_email.delay(payment_id), robust=True)


@receiver(online_payment_paid, dispatch_uid="billing.online_credit")
def _queue_online_credit(sender, *, payment_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: online_credit.delay(payment_id), robust=True)


@receiver(online_reversal_created, dispatch_uid="billing.online_reversal")
def _queue_online_reversal(sender, *, entry_id: int, **kwargs) -> None:
    transaction.on_commit(lambda: online_reversal.delay(entry_id), robust=True)


@receiver(ledger_entry_settled, dispatch_uid="billing.pay_history")
def _queue_pay_history(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    if entry.state == LedgerEntry.State.APPLIED:
        entry_id = entry.pk
        transaction.on_commit(
            lambda: entry_pay_history.apply_async((entry_id,), countdown=PAY_HISTORY_DELAY_SECONDS),
            robust=True,
        )


SETTLED_EVENTS = {
    LedgerEntry.State.APPLIED: "transaction.applied",
    LedgerEntry.State.FAILED: "transaction.failed",
}


@receiver(ledger_entry_settled, dispatch_uid="billing.webhook_transaction")
def _transaction_webhook(sender, *, entry: LedgerEntry, previous: str, **kwargs) -> None:
    event = SETTLED_EVENTS.get(entry.state)
    if event is None or not entry.customer_facing or not entry.reseller_account:
        return
    webhooks.event_emit(
        owner_ids=webhooks.reseller_users(
            server_id=entry.server_id, agent_account=entry.reseller_account
        ),
        event=event,
        data={
            "id": entry.pk,
            "account": entry.account,
            "amount": str(entry.amount),
            "state": entry.state,
            "balance_after": None if entry.balance_after is None else str(entry.balance_after),
        },
    )


@receiver(customer_event, dispatch_uid="billing.webhook_customer")
def _customer_webhook(sender, *, event: str, vos_account, data: dict, **kwargs) -> None:
    if event in webhooks.EVENTS:
        webhooks.account_event_emit(vos_account=vos_account, event=event, data=data)
