"""What the pay-history mirror has seen: the periodic sync's cursor and per-account fetches.

A ledger row can only be missing from the mirror if the mirror has looked where its record
would be. Until then the row is *awaiting* the switch's record, not a mismatch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from telephony.models import SyncState
from telephony.services.jobs import cursor_time

from ..models import LedgerEntry, PayHistoryCoverage
from .ledger import reconcile_margin


class Coverage:
    """Answers "has the mirror read the pay history where this row's record would be?"."""

    def __init__(self, entries: Iterable[LedgerEntry]) -> None:
        entries = list(entries)
        self.margin = reconcile_margin()
        servers = {e.server_id for e in entries}
        self.through: dict[int, datetime | None] = {
            state.server_id: cursor_time(state, "through")
            for state in SyncState.objects.filter(server_id__in=servers, job=SyncState.Job.PAYMENTS)
        }
        self.fetches: dict[tuple[int, str], list[PayHistoryCoverage]] = defaultdict(list)
        if entries:
            earliest = min(self._moment(e) for e in entries)
            for fetch in PayHistoryCoverage.objects.filter(
                server_id__in=servers,
                account__in={e.account for e in entries},
                end__gte=earliest,
            ):
                self.fetches[(fetch.server_id, fetch.account)].append(fetch)

    @staticmethod
    def _moment(entry: LedgerEntry) -> datetime:
        return entry.sent_at or entry.created_at

    def covers(self, entry: LedgerEntry) -> bool:
        """True once a read that began after the row was settled spans its time ± the margin."""
        moment = self._moment(entry)
        through = self.through.get(entry.server_id)
        if through is not None and through >= moment + self.margin:
            return True
        settled = entry.settled_at or moment
        return any(
            f.begin <= moment - self.margin
            and f.end >= moment + self.margin
            and f.fetched_at >= settled
            for f in self.fetches.get((entry.server_id, entry.account), ())
        )
