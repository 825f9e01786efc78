"""Signals of the money layer (receivers: billing.receivers, connected in BillingConfig)."""

from django.dispatch import Signal

# A ledger row moved to a new state. Arguments: entry (LedgerEntry, already updated),
# previous (its former state). Sent inside the settling code path; receivers that do
# anything outside the database queue it with transaction.on_commit.
ledger_entry_settled = Signal()
