"""Keeping the local mirror of VOS in step (the Celery jobs in telephony.tasks call these)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from .models import VosAccount, VosServer
from .vos import Customer, VosClient, VosError, page_client_for

log = logging.getLogger(__name__)


def customer_fields(customer: Customer) -> dict:
    """VosAccount fields from a GetCustomer record."""
    return {
        "name": customer.name[:64],
        "agent_account": customer.agent_account,
        "account_type": customer.type,
        "balance": customer.money,
        "limit_money": customer.limit_money,
        "today_consumption": customer.today_consumption,
        "locked": customer.locked,
        "phone_book_limit": customer.phone_book_limit,
        "fee_rate_group": customer.fee_rate_group[:64],
        "memo": customer.memo[:255],
        "vos_created_at": customer.start_time,
        "valid_until": customer.valid_time,
    }


def account_apply(*, server: VosServer, customer: Customer, read_at: datetime) -> bool:
    """Store one GetCustomer reading, unless a newer reading is already stored.

    ``read_at`` is when the request was sent. The conditional UPDATE makes a slow, old read
    unable to overwrite a fresher one (e.g. a push or a later poll). True if stored.
    """
    fields = customer_fields(customer)
    updated = VosAccount.objects.filter(
        Q(balance_as_of__isnull=True) | Q(balance_as_of__lte=read_at),
        server=server,
        account=customer.account,
    ).update(balance_as_of=read_at, missing_since=None, **fields)
    if updated:
        return True
    _, created = VosAccount.objects.get_or_create(
        server=server,
        account=customer.account,
        defaults={"balance_as_of": read_at, **fields},
    )
    return created


@dataclass(frozen=True)
class Refresh:
    """The account after a refresh attempt; ``error`` says why VOS could not be asked."""

    account: VosAccount
    error: VosError | None = None

    @property
    def stale(self) -> bool:
        return self.error is not None


def account_refresh(*, vos_account: VosAccount, client: VosClient | None = None) -> Refresh:
    """Ask VOS for one account's figures with the page timeout; fall back to the mirror."""
    client = client or page_client_for(vos_account.server)
    read_at = timezone.now()
    try:
        customer = client.get_customer(vos_account.account)
    except VosError as exc:
        log.warning("balance refresh of %s failed: %s", vos_account, exc)
        return Refresh(account=vos_account, error=exc)
    account_apply(server=vos_account.server, customer=customer, read_at=read_at)
    vos_account.refresh_from_db()
    return Refresh(account=vos_account)
