"""The staff reconciliation report: the ledger against the VOS pay-history mirror."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from telephony.models import VosServer

from ..models import LedgerEntry, PayRecord
from .coverage import Coverage
from .ledger import State, memo_tag_of


@dataclass
class ReportRow:
    server: VosServer
    account: str
    day: date
    ledger_total: Decimal = Decimal("0")
    ledger_count: int = 0
    vos_total: Decimal = Decimal("0")
    vos_count: int = 0
    open_count: int = 0
    # Applied rows whose pay history the mirror has not read yet: not compared, not problems.
    awaiting_count: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconciliation_report(
    *,
    first: date,
    last: date,
    server: VosServer | None = None,
    account: str = "",
    mismatches_only: bool = False,
) -> list[ReportRow]:
    """Ledger vs the VOS pay-history mirror (PayRecord) per account and day.

    An applied ledger row is found in VOS by its memo (``portal#<id>``), or, on servers that
    return no memos, by a memo-less payment of the same account, day and amount (each payment
    used once). Portal payments in VOS that the ledger does not show applied, duplicates, and
    rows still open are listed too. An applied row is compared only once the mirror has read
    the pay history where its record would be (billing.services.coverage); until then it is
    counted as awaiting. Days are those of the current time zone.
    """
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, time.min), tz)
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    ledger = (
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(state=State.FAILED)
        .select_related("server")
    )
    records = PayRecord.objects.filter(paid_at__gte=start, paid_at__lt=end).select_related("server")
    if server is not None:
        ledger = ledger.filter(server=server)
        records = records.filter(server=server)
    if account:
        ledger = ledger.filter(account=account)
        records = records.filter(account=account)
    report = _Report(tz)
    applied = report.ledger_rows(ledger)
    tagged, memo_less = report.vos_records(records)
    report.tagged_compare(tagged, applied)
    report.memo_less_compare(applied, tagged, memo_less, Coverage(applied.values()))
    result = sorted(
        report.rows.values(), key=lambda r: (r.day, r.server.name, r.account), reverse=True
    )
    if mismatches_only:
        result = [row for row in result if not row.ok]
    return result


class _Report:
    """The rows of one reconciliation report, by (server, account, day)."""

    def __init__(self, tz) -> None:
        self.tz = tz
        self.rows: dict[tuple[int, str, date], ReportRow] = {}

    def day(self, moment: datetime) -> date:
        return timezone.localtime(moment, self.tz).date()

    def row(self, srv: VosServer, acct: str, moment: datetime) -> ReportRow:
        day = self.day(moment)
        key = (srv.pk, acct, day)
        if key not in self.rows:
            self.rows[key] = ReportRow(server=srv, account=acct, day=day)
        return self.rows[key]

    def ledger_rows(self, ledger) -> dict[int, LedgerEntry]:
        """Count applied rows, list open ones; returns the applied rows by id."""
        applied: dict[int, LedgerEntry] = {}
        for entry in ledger.iterator():
            row = self.row(entry.server, entry.account, entry.created_at)
            if entry.state == State.APPLIED:
                row.ledger_total += entry.amount
                row.ledger_count += 1
                applied[entry.pk] = entry
            else:
                row.open_count += 1
                row.problems.append(
                    _("#%(id)s is still %(state)s")
                    % {"id": entry.pk, "state": entry.get_state_display()}
                )
        return applied

    def vos_records(self, records):
        """VOS payments carrying a portal tag (by ledger id), and memo-less ones by day."""
        tagged: dict[int, list[PayRecord]] = defaultdict(list)
        memo_less: dict[tuple[int, str, date], list[PayRecord]] = defaultdict(list)
        for record in records.iterator():
            tag = memo_tag_of(record.memo)
            number = tag.partition("#")[2] if tag else ""
            if number.isdigit():
                tagged[int(number)].append(record)
            elif not record.memo:
                memo_less[(record.server_id, record.account, self.day(record.paid_at))].append(
                    record
                )
        return tagged, memo_less

    def tagged_compare(
        self, tagged: dict[int, list[PayRecord]], applied: dict[int, LedgerEntry]
    ) -> None:
        for pk, found in tagged.items():
            record = found[0]
            row = self.row(record.server, record.account, record.paid_at)
            row.vos_total += sum((r.amount for r in found), Decimal("0"))
            row.vos_count += len(found)
            entry = applied.get(pk)
            if len(found) > 1:
                row.problems.append(
                    _("#%(id)s appears %(n)s times in VOS") % {"id": pk, "n": len(found)}
                )
            if entry is None:
                row.problems.append(
                    _("VOS has portal#%(id)s; the ledger does not show it applied") % {"id": pk}
                )
            elif entry.amount != record.amount:
                row.problems.append(
                    _("#%(id)s: ledger %(ledger)s, VOS %(vos)s")
                    % {"id": pk, "ledger": entry.amount, "vos": record.amount}
                )

    def memo_less_compare(
        self,
        applied: dict[int, LedgerEntry],
        tagged: dict[int, list[PayRecord]],
        memo_less: dict[tuple[int, str, date], list[PayRecord]],
        coverage: Coverage,
    ) -> None:
        for pk, entry in applied.items():
            if pk in tagged:
                continue
            row = self.row(entry.server, entry.account, entry.created_at)
            candidates = memo_less.get((entry.server_id, entry.account, row.day), [])
            match = next((r for r in candidates if r.amount == entry.amount), None)
            if match is not None:
                candidates.remove(match)
                row.vos_total += match.amount
                row.vos_count += 1
            elif not coverage.covers(entry):
                row.awaiting_count += 1
            else:
                row.problems.append(
                    _("#%(id)s is applied in the ledger but not in VOS pay history") % {"id": pk}
                )
