"""Signals of the money layer (receivers: billing.receivers, connected in BillingConfig)."""

from django.dispatch import Signal

# A ledger row moved to a new state. Arguments: entry (LedgerEntry, already updated),
# previous (its former state). Sent inside the settling code path; receivers that do
# anything outside the database queue it with transaction.on_commit.
ledger_entry_settled = Signal()
# A verified notification said paid (sent on every such delivery; crediting is idempotent).
online_payment_paid = Signal()
# A refund or chargeback deduction row was written and is to be sent at once.
online_reversal_created = Signal()
