"""The rate-table mirror: every fee-rate group in use on a server, read whole and replaced.

A group is "in use" when a mirrored account (not missing) has it as its ``feeRateGroup``.
Each table is replaced in one transaction, so a page sees the old table or the new one,
never half of each; a group the switch no longer knows keeps its last table (and the time
it was read), and tables of groups no longer in use are dropped.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from ..models import FeeRate, FeeRateTable, Phone, VosAccount, VosServer
from ..vos import AvailableTime, VosClient, VosError, VosNotFound, page_client_for
from ..vos import FeeRate as WireRate

log = logging.getLogger(__name__)


def groups_in_use(*, server: VosServer) -> list[str]:
    return sorted(
        set(
            VosAccount.objects.filter(server=server, missing_since__isnull=True)
            .exclude(fee_rate_group="")
            .values_list("fee_rate_group", flat=True)
        )
    )


def _row(table: FeeRateTable, rate: WireRate) -> FeeRate:
    return FeeRate(
        table=table,
        prefix=rate.prefix,
        area_code=rate.area_code[:32],
        area_name=rate.area_name[:128],
        type=rate.type,
        fee=rate.fee,
        period=rate.period,
        locked=rate.locked,
        sections=[
            {"fee": str(s.fee), "time": s.time, "position": s.position} for s in rate.sections
        ],
    )


def rate_table_store(
    *, server: VosServer, group: str, memo: str, rates: list[WireRate]
) -> FeeRateTable:
    """Replace one group's table (a prefix listed twice keeps its first record)."""
    unique = list({rate.prefix: rate for rate in reversed(rates)}.values())
    with transaction.atomic():
        table, _ = FeeRateTable.objects.update_or_create(
            server=server,
            group=group,
            defaults={"memo": memo[:255], "read_at": timezone.now(), "rate_count": len(unique)},
        )
        FeeRate.objects.filter(table=table).delete()
        FeeRate.objects.bulk_create([_row(table, rate) for rate in unique], batch_size=2000)
    return table


def rates_sync(*, server: VosServer, client: VosClient) -> int:
    """Read every group in use; the number of rates stored."""
    groups = groups_in_use(server=server)
    memos = {g.name: g.memo for g in client.get_fee_rate_groups(groups)} if groups else {}
    stored = 0
    for group in groups:
        try:
            rates = client.get_fee_rates(group=group)
        except VosNotFound:
            log.warning("VOS %s has no fee rate group %r; its last table is kept", server, group)
            continue
        stored += rate_table_store(
            server=server, group=group, memo=memos.get(group, ""), rates=rates
        ).rate_count
    FeeRateTable.objects.filter(server=server).exclude(group__in=groups).delete()
    return stored


def rates_job(*, server: VosServer, client: VosClient, state) -> int:
    return rates_sync(server=server, client=client)


def billing_phones(*, account: VosAccount) -> list[str]:
    """The account's phones (the billing names GetAvailableTime takes): the mirror, else a
    live GetPhone bounded by ``VOS_PAGE_TIMEOUT`` (an empty list when VOS does not answer)."""
    phones = list(
        Phone.objects.filter(server_id=account.server_id, account=account.account)
        .order_by("e164")
        .values_list("e164", flat=True)
    )
    if phones:
        return phones
    try:
        found = page_client_for(account.server).get_phones(accounts=[account.account])
    except VosError:
        return []
    return sorted(p.e164 for p in found if p.account == account.account)


def available_time_read(*, account: VosAccount, phone: str, callee: str) -> AvailableTime:
    """GetAvailableTime for one number, bounded by ``VOS_PAGE_TIMEOUT``; VosError if not."""
    return page_client_for(account.server).get_available_time(phone=phone, callee=callee)
