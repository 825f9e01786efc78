"""6. Top-ups under faults: a reseller tops customers up while 30% of Pay answers are lost.

Subject: ``billing.services.topup_submit`` one after another (ledger row, Pay, and for a
lost answer the immediate pay-history lookup), then ``ledger_sweep`` for anything left.
Checked afterwards, against the emulator's own books: every customer's balance moved by
exactly the sum of its applied rows, each applied row is in VOS pay history once, and the
portal's own report (pay history sync + ``reconciliation_report``) shows no mismatch.
Reference: the same number of Pay calls, same faults, through a bare ``requests`` loop.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from bench.emulator import EmulatorProcess
from bench.fixtures import agent_name, server_create, user_create
from bench.measure import Report, Target, profiled

SIZES = {
    "smoke": {"topups": 30, "customers": 100, "lost": 0.3},
    "full": {"topups": 1_000, "customers": 1_000, "lost": 0.3},
}
AMOUNT = Decimal("1.25")


def _reference(url: str, accounts: list[str], count: int) -> tuple[float, int]:
    import requests

    from telephony.vos import REQUEST_HEADERS, encode_body

    session = requests.Session()
    lost = 0
    started = time.perf_counter()
    for i in range(count):
        payload = {
            "ownerName": accounts[i % len(accounts)],
            "ownerType": 2,
            "money": AMOUNT,
            "memo": f"bench-ref {i}",
        }
        try:
            response = session.post(
                f"{url.rstrip('/')}/Pay",
                data=encode_body(payload),
                headers=REQUEST_HEADERS,
                timeout=30,
            )
            response.content  # noqa: B018
        except requests.RequestException:
            lost += 1
    seconds = time.perf_counter() - started
    session.close()
    return seconds, lost


def run(*, topups: int, customers: int, lost: float) -> Report:
    from django.utils import timezone

    from accounts.models import Profile, Role
    from billing.models import LedgerEntry
    from billing.services import ledger, transfers
    from billing.services import report as reports
    from billing.services import topups as topup_service
    from telephony.models import SyncState, VosAccount
    from telephony.services import jobs

    with EmulatorProcess(kind="scale", accounts=customers) as emu:
        server = server_create(emu.url)
        jobs.server_job_run(server=server, job=SyncState.Job.DISCOVERY)
        agent = VosAccount.objects.get(server=server, account=agent_name(1))
        reseller = user_create(username="bench-reseller", role=Role.RESELLER, vos_account=agent)
        Profile.objects.filter(user=reseller).update(
            topup_cap_per_transaction=Decimal("1000"),
            topup_cap_per_day=Decimal("1000000"),
            prepaid=False,
        )
        reseller.refresh_from_db()
        mine = list(
            VosAccount.objects.filter(server=server, agent_account=agent.account).order_by(
                "account"
            )
        )
        others = list(
            VosAccount.objects.filter(server=server, agent_account=agent_name(2))
            .order_by("account")
            .values_list("account", flat=True)
        )
        names = [c.account for c in mine]
        before = emu.balances(names)

        emu.faults(drop_after_pay_rate=lost, seed=7)
        ref_seconds, ref_lost = _reference(emu.url, others or names, topups)

        started = time.perf_counter()
        with profiled():
            for i in range(topups):
                topup_service.topup_submit(
                    actor=Actor(user=reseller, ip="127.0.0.1"),
                    agent=reseller_agent(reseller),
                    movement=topup_service.TopupRequest(
                        customer=mine[i % len(mine)],
                        amount=AMOUNT,
                        deduct=False,
                        memo=f"bench {i}",
                        idempotency_key=ledger.new_idempotency_key(),
                    ),
                )
        seconds = time.perf_counter() - started
        emu.faults(drop_after_pay_rate=0.0)
        rows = LedgerEntry.objects.filter(server=server, account__in=names)
        after_submit = Counter(rows.values_list("state", flat=True))
        # A row matched to a pay-history record was settled by reconciliation: its answer
        # was lost.
        settled_from_history = rows.exclude(vos_record_key="").count()
        transfers.ledger_sweep()
        states = Counter(rows.values_list("state", flat=True))

        # The portal's books against the emulator's.
        after = emu.balances(names)
        applied: dict[str, Decimal] = {}
        for account, amount in rows.filter(state=LedgerEntry.State.APPLIED).values_list(
            "account", "amount"
        ):
            applied[account] = applied.get(account, Decimal("0")) + amount
        balance_mismatches = sum(
            1 for a in names if after[a] - before[a] != applied.get(a, Decimal("0"))
        )
        memos = Counter(memo.split()[0] for _, _, memo in emu.ask("pay_memos", "portal#"))
        applied_tags = {
            f"portal#{pk}"
            for pk in rows.filter(state=LedgerEntry.State.APPLIED).values_list("pk", flat=True)
        }
        missing = len(applied_tags - set(memos))
        duplicates = sum(1 for count in memos.values() if count > 1)
        not_in_ledger = len(set(memos) - applied_tags)
        jobs.server_job_run(server=server, job=SyncState.Job.PAYMENTS)
        today = timezone.localdate()
        report_problems = sum(
            len(row.problems)
            for row in reports.reconciliation_report(
                first=today, last=today, server=server, mismatches_only=True
            )
        )

    report = Report()
    report.add(
        "top-ups/s",
        topups / seconds,
        "/s",
        reference=topups / ref_seconds,
        note=f"{lost:.0%} of answers lost",
    )
    report.add(
        "lost answers settled from history",
        settled_from_history,
        note=f"{ref_lost} answers lost in the reference loop",
    )
    report.add("unknown after submit", after_submit.get(LedgerEntry.State.UNKNOWN, 0))
    report.add(
        "open after sweep",
        states.get(LedgerEntry.State.UNKNOWN, 0) + states.get(LedgerEntry.State.PENDING, 0),
        target=Target(max=1),
    )
    report.add(
        "ledger vs VOS mismatches",
        balance_mismatches + missing + duplicates + not_in_ledger,
        target=Target(max=1),
        note="balances, pay history, duplicates",
    )
    report.add("reconciliation report problems", report_problems, target=Target(max=1))
    report.details.update(
        topups=topups,
        customers=len(names),
        seconds=seconds,
        reference_seconds=ref_seconds,
        states_after_submit=dict(after_submit),
        states_after_sweep=dict(states),
        balance_mismatches=balance_mismatches,
        missing_in_vos=missing,
        duplicates_in_vos=duplicates,
        vos_not_in_ledger=not_in_ledger,
        reference_lost=ref_lost,
        report_problems=report_problems,
        settled_from_history=settled_from_history,
    )
    return report
