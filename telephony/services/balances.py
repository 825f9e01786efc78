"""The balance sweep: batched GetCustomer for every known account into the mirror."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from ..models import VosServer
from ..vos import VosClient, chunked
from .mirror import accounts_apply, accounts_stored


def customers_fetch(
    *,
    server: VosServer,
    client: VosClient,
    accounts: Sequence[str],
    batch_size: int = 0,
    stored: dict[str, tuple[int, str | None]] | None = None,
) -> tuple[int, datetime | None]:
    """Batched GetCustomer for ``accounts`` into the mirror: the rows written, and when the
    first batch was asked (None for no accounts). VOS answers each batch while the one
    before is written."""
    size = max(1, batch_size or settings.SYNC_BALANCE_BATCH)
    rows = 0
    first_read: datetime | None = None
    for read_at, answers in client.get_customer_batches(chunked(list(accounts), size)):
        first_read = first_read or read_at
        rows += accounts_apply(server=server, answers=answers, read_at=read_at, stored=stored)
    return rows, first_read


def balances_sync(*, server: VosServer, client: VosClient, batch_size: int | None = None) -> int:
    """Batched GetCustomer for every known account: balance, limit, lock, today's use.

    Only the figures that changed are written; once every batch is stored, the server's
    ``balances_confirmed_at`` moves on to when the sweep began, which vouches for the rest.
    """
    stored = accounts_stored(server)
    known = sorted(account for account, (_pk, digest) in stored.items() if digest is not None)
    rows, began = customers_fetch(
        server=server,
        client=client,
        accounts=known,
        batch_size=batch_size or 0,
        stored=stored,
    )
    if began is not None:
        VosServer.objects.filter(
            Q(balances_confirmed_at__isnull=True) | Q(balances_confirmed_at__lt=began),
            pk=server.pk,
        ).update(balances_confirmed_at=began)
        server.balances_confirmed_at = max(began, server.balances_confirmed_at or began)
    return rows


def balances_job(*, server: VosServer, client: VosClient, state) -> int:
    return balances_sync(server=server, client=client)
