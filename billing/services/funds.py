"""What an account can give up: live reads of a balance, and debits a reading may not show.

Both a prepaid reseller's own credit (before a top-up) and a customer's funds (before a
deduction) are read fresh from the switch with the page client, outside any transaction; the
caller then subtracts the debits in flight under the reseller's profile lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from telephony.models import VosAccount, VosServer
from telephony.services.mirror import account_apply
from telephony.vos import page_client_for

from ..models import LedgerEntry
from .ledger import OPEN_STATES, State


@dataclass(frozen=True)
class Funds:
    """One account's figures as the switch reported them at ``read_at``."""

    balance: Decimal
    limit_money: Decimal
    read_at: datetime

    @property
    def available(self) -> Decimal:
        """Balance plus overdraft limit: how far the balance may fall before the switch stops."""
        return self.balance + self.limit_money


def funds_read(*, account: VosAccount) -> Funds:
    """The account's balance and limit, read now within VOS_PAGE_TIMEOUT; the mirror takes
    the reading. Raises VosError when the switch cannot answer (callers refuse then)."""
    read_at = timezone.now()
    customer = page_client_for(account.server).get_customer(account.account)
    account_apply(server=account.server, customer=customer, read_at=read_at)
    return Funds(balance=customer.money, limit_money=customer.limit_money, read_at=read_at)


def debits_in_flight(*, server: VosServer | int, account: str, read_at: datetime) -> Decimal:
    """Debits of ``account`` that a balance read at ``read_at`` may not show (positive).

    Open rows, and rows applied since the read. A debit counted twice only makes a check
    stricter, never looser.
    """
    server_id = server if isinstance(server, int) else server.pk
    total = LedgerEntry.objects.filter(
        Q(state__in=OPEN_STATES) | Q(state=State.APPLIED, settled_at__gte=read_at),
        server_id=server_id,
        account=account,
        amount__lt=0,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal("0"))
