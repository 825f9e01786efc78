"""The account mirror: VosAccount figures from GetCustomer readings, pushes and live reads.

Every write keeps one rule: a reading older than the stored one never overwrites it
(`fresh_enough`). docs/SYNC.md describes the mirror.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from ..models import Phone, VosAccount, VosServer
from ..vos import (
    Customer,
    CustomerAnswer,
    MalformedRecord,
    VosClient,
    VosError,
    page_client_for,
)
from .account_sql import AccountSql

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


def fresh_enough(read_at: datetime) -> Q:
    """Rows whose stored figures are not newer than a reading taken at ``read_at``."""
    return Q(balance_as_of__isnull=True) | Q(balance_as_of__lte=read_at)


def account_apply(*, server: VosServer, customer: Customer, read_at: datetime) -> bool:
    """Store one GetCustomer reading, unless a newer reading is already stored.

    ``read_at`` is when the request was sent. The conditional UPDATE makes a slow, old read
    unable to overwrite a fresher one (e.g. a push or a later poll). True if stored.
    """
    fields = customer_fields(customer)
    updated = VosAccount.objects.filter(
        fresh_enough(read_at),
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


def accounts_apply(
    *,
    server: VosServer,
    answers: Sequence[CustomerAnswer],
    read_at: datetime,
    stored: dict[str, tuple[int, str | None]] | None = None,
) -> int:
    """`account_apply` for a batch of GetCustomer records, in one short transaction; returns
    the rows written.

    A record whose digest matches the one stored with its row is the record the row was
    copied from: it is neither decoded nor written (the sweep's start, kept on the server,
    says it was confirmed; ``VosAccount.figures_as_of``). Every other record is decoded and
    written with its digest (one statement for the batch), or inserted when the account is
    new. Each UPDATE keeps the `fresh_enough` condition, so a reading older than the stored
    one never overwrites it. Call it after the VOS answer arrived: a push landing later
    carries a later time.

    ``stored`` is `accounts_stored` of the server, read before the request for the batch
    was sent (the sweep reads it once); without it, the batch's rows are read here.
    """
    if not answers:
        return 0
    sql = AccountSql(read_at)
    if stored is None:
        stored = accounts_stored(server, accounts=[a.account for a in answers])
    changed: list[tuple] = []
    new: list[VosAccount] = []
    for answer in answers:
        pk, stored_digest = stored.get(answer.account, (None, None))
        digest = answer.digest
        if pk is not None and stored_digest == digest:
            continue
        try:
            fields = customer_fields(answer.decode())
        except MalformedRecord:
            continue  # logged by decode(); the rest of the batch is stored
        if pk is None:
            new.append(
                VosAccount(
                    server=server,
                    account=answer.account,
                    balance_as_of=read_at,
                    wire_digest=digest,
                    **fields,
                )
            )
        else:
            changed.append(sql.row(pk, digest, fields))
    if not (changed or new):
        return 0
    return _batch_write(sql, changed, new)


def _batch_write(sql: AccountSql, changed: list[tuple], new: list[VosAccount]) -> int:
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A mirror of what VOS holds: a crash may lose the last batch (the next sweep
            # writes it again, figures and digest together), so no commit waits for the disk.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if changed:
            written = sql.write(cursor, changed)
        if new:
            VosAccount.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return written + len(new)


def accounts_stored(
    server: VosServer, *, accounts: Sequence[str] | None = None
) -> dict[str, tuple[int, str | None]]:
    """The mirrored accounts of ``server`` (all, or ``accounts``): account -> (pk, digest;
    None when missing).

    A write after this read clears a digest that this still holds; the rows it concerns
    are rewritten by the next sweep, whose read comes after it.
    """
    rows = VosAccount.objects.filter(server=server)
    if accounts is not None:
        rows = rows.filter(account__in=accounts)
    return {
        account: (pk, digest)
        for pk, account, digest in rows.values_list(
            "pk", "account", Case(When(missing_since=None, then="wire_digest"))
        )
    }


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
    server = vos_account.server
    account_apply(server=server, customer=customer, read_at=read_at)
    vos_account.refresh_from_db()
    vos_account.server = server  # refresh_from_db drops it; figures_as_of reads it
    return Refresh(account=vos_account)


def balance_apply(
    *, server: VosServer | int, account: str, money: Decimal, read_at: datetime
) -> bool:
    """One account's balance as VOS reported it at ``read_at`` (a CustomerMoneyChange push,
    a Pay's answer, a pay-history record), unless a newer reading is stored.

    True if stored; False for an unknown account or when a newer reading is already there.
    """
    server_id = server if isinstance(server, int) else server.pk
    return bool(
        VosAccount.objects.filter(
            fresh_enough(read_at), server_id=server_id, account=account
        ).update(balance=money, balance_as_of=read_at)
    )


def phone_online_apply(
    *, server: VosServer, e164: str, online: bool, event_at: datetime, remote_ip: str = ""
) -> Phone:
    """A PhoneOnline push; an event older than the one stored changes nothing."""
    fields = {"online": online, "last_seen_at": event_at, "remote_ip": remote_ip[:64]}
    updated = Phone.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=event_at), server=server, e164=e164
    ).update(**fields)
    if updated:
        return Phone.objects.get(server=server, e164=e164)
    phone, _created = Phone.objects.get_or_create(server=server, e164=e164, defaults=fields)
    return phone
