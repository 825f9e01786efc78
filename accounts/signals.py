"""Signals of the accounts layer (billing.receivers turns them into webhook events)."""

from django.dispatch import Signal

# Something a reseller (or the API on their behalf) did to a customer's VOS account.
# Arguments: event ("customer.created", "customer.locked", "customer.unlocked"),
# vos_account (VosAccount), data (a dict of plain JSON values). Sent after the change is done.
customer_event = Signal()
