"""Discovery: which accounts a server has, with their agents (GetAllCustomers + GetCustomer)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from ..models import VosAccount, VosServer
from ..vos import VosClient, VosMalformed, chunked
from .balances import customers_fetch

log = logging.getLogger(__name__)


def _listing(*, server: VosServer, client: VosClient) -> tuple[list[str], list[str], int]:
    """(accounts VOS lists, accounts to ask GetCustomer for, rows changed so far)."""
    briefs = client.get_all_customer_briefs()
    if briefs is None or not all(b.agent_account is not None for b in briefs):
        present = client.get_all_customers()
        return present, present, 0
    present = [b.account for b in briefs]
    known = set(
        VosAccount.objects.filter(server=server, account__in=present).values_list(
            "account", flat=True
        )
    )
    by_agent: dict[str, list[str]] = {}
    for brief in briefs:
        if brief.account in known:
            by_agent.setdefault(brief.agent_account or "", []).append(brief.account)
    rows = 0
    for agent, accounts in by_agent.items():
        for batch in chunked(accounts, 500):
            rows += (
                VosAccount.objects.filter(server=server, account__in=batch)
                .filter(~Q(agent_account=agent) | Q(missing_since__isnull=False))
                .update(agent_account=agent, missing_since=None)
            )
    return present, [a for a in present if a not in known], rows


def _listing_doubt(*, server: VosServer, present: list[str], skipped: int) -> str:
    """Why this listing must not mark anything missing, or "".

    An empty list while the mirror has accounts is far likelier a switch fault than an
    operator who deleted every customer; a listing with garbled ids leaves out accounts we
    cannot name. Either way nothing is marked missing and the run is reported as failed.
    """
    if skipped:
        return f"{skipped} garbled account id(s) in the listing; no account marked missing"
    if not present:
        mirrored = VosAccount.objects.filter(server=server, missing_since__isnull=True).count()
        if mirrored:
            return f"listed no accounts while the mirror has {mirrored}; no account marked missing"
    return ""


def accounts_discover(*, server: VosServer, client: VosClient) -> int:
    """Mirror every VOS account of ``server`` with its agent; mark vanished ones missing.

    GetAllCustomers lists account ids only (2.1.7), so GetCustomer is asked in batches for
    the details. On builds whose ``{"type":1}`` form also gives each account's agent, only
    accounts new to the mirror need GetCustomer. Returns the rows added or changed. A
    listing that cannot be trusted (see ``_listing_doubt``) changes no account's presence
    and raises VosMalformed after the listed accounts were stored.
    """
    now = timezone.now()
    skipped_before = client.stats.skipped.get("GetAllCustomers", 0)
    present, fetch, rows = _listing(server=server, client=client)
    skipped = client.stats.skipped.get("GetAllCustomers", 0) - skipped_before
    rows += customers_fetch(server=server, client=client, accounts=fetch)[0]
    doubt = _listing_doubt(server=server, present=present, skipped=skipped)
    if doubt:
        raise VosMalformed("GetAllCustomers", doubt)
    rows += accounts_mark_missing(server=server, present=present, at=now)
    return rows


def accounts_mark_missing(*, server: VosServer, present: Iterable[str], at: datetime) -> int:
    """Stamp ``missing_since`` on mirrored accounts VOS no longer lists."""
    present = set(present)
    stored = VosAccount.objects.filter(server=server, missing_since__isnull=True).values_list(
        "pk", "account"
    )
    gone = [pk for pk, account in stored if account not in present]
    marked = 0
    for batch in chunked(gone, 500):
        marked += VosAccount.objects.filter(pk__in=batch, missing_since__isnull=True).update(
            missing_since=at
        )
    if marked:
        log.info("VOS %s: %d accounts no longer listed", server.name, marked)
    return marked


def discovery_job(*, server: VosServer, client: VosClient, state) -> int:
    return accounts_discover(server=server, client=client)
