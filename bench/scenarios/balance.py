"""1. Balance sync: the balances job over every mirrored account.

Subject: ``telephony.services.jobs.server_job_run(job="balances")``, as the Celery worker runs it
(lock, batched GetCustomer, conditional updates, SyncState), after some balances moved on the
VOS side. Reference: a bare ``requests`` loop asking the emulator the same GetCustomer
batches and only reading the answers.
"""

from __future__ import annotations

import time

from bench.emulator import EmulatorProcess
from bench.fixtures import server_create, table_analyze
from bench.measure import Report, Target, profiled

SIZES = {
    "smoke": {"accounts": 200, "repeats": 1, "moved_every": 10},
    "full": {"accounts": 10_000, "repeats": 3, "moved_every": 10},
}


def _reference(url: str, accounts: list[str], batch: int) -> tuple[float, int]:
    """Seconds and calls of the same GetCustomer batches through a plain requests loop."""
    import requests

    from telephony.vos import REQUEST_HEADERS, chunked, encode_body

    session = requests.Session()
    calls = 0
    started = time.perf_counter()
    for names in chunked(accounts, batch):
        response = session.post(
            f"{url.rstrip('/')}/GetCustomer",
            data=encode_body({"accounts": names}),
            headers=REQUEST_HEADERS,
            timeout=60,
        )
        response.raise_for_status()
        response.content  # noqa: B018 - read the whole answer, as the portal does
        calls += 1
    seconds = time.perf_counter() - started
    session.close()
    return seconds, calls


def _own_work_ms(server, names: list[str], batch: int) -> float:
    """The portal's own time per batch, apart from VOS's: every answer is fetched first, then
    decoded, compared and written as the sweep does, with nothing to overlap."""
    from django.utils import timezone

    from telephony.services import jobs, mirror
    from telephony.vos import chunked

    client = jobs.run_client(server)
    sent = [client._send("GetCustomer", {"accounts": part}) for part in chunked(names, batch)]
    stored = mirror.accounts_stored(server)
    started = time.perf_counter()
    for answer in sent:
        answers = client._customer_answers(client._read(answer))
        mirror.accounts_apply(server=server, answers=answers, read_at=timezone.now(), stored=stored)
    return (time.perf_counter() - started) / len(sent) * 1000


def run(*, accounts: int, repeats: int, moved_every: int) -> Report:
    from django.conf import settings

    from telephony.models import SyncState, VosAccount
    from telephony.services import jobs

    report = Report()
    with EmulatorProcess(kind="scale", accounts=accounts) as emu:
        server = server_create(emu.url)
        # The mirror as discovery leaves it (the real job; not measured).
        jobs.server_job_run(server=server, job=SyncState.Job.DISCOVERY)
        # Planner statistics of the filled mirror, as autovacuum leaves them in production.
        autovacuum = table_analyze(VosAccount)
        names = list(
            VosAccount.objects.filter(server=server)
            .order_by("account")
            .values_list("account", flat=True)
        )
        batch = settings.SYNC_BALANCE_BATCH
        best = best_ref = float("inf")
        calls = ref_calls = rows = 0
        for round_ in range(repeats):
            # Calls were made since the last sync: every tenth balance moved.
            emu.ask("pay", [(a, "-0.0100") for a in names[round_ % moved_every :: moved_every]])
            ref_seconds, ref_calls = _reference(emu.url, names, batch)
            before = emu.calls().get("GetCustomer", 0)
            started = time.perf_counter()
            with profiled():
                outcome = jobs.server_job_run(server=server, job=SyncState.Job.BALANCES)
            seconds = time.perf_counter() - started
            calls = emu.calls().get("GetCustomer", 0) - before
            rows = outcome.rows
            best, best_ref = min(best, seconds), min(best_ref, ref_seconds)
        emu.ask("pay", [(a, "-0.0100") for a in names[repeats % moved_every :: moved_every]])
        own_ms = _own_work_ms(server, names, batch)
        count = len(names)
        report.add(
            "accounts/s",
            count / best,
            "/s",
            reference=count / best_ref,
            target=Target(min=2000, min_ratio=0.70),
        )
        report.add("wall time", best, "s", reference=best_ref, better="lower")
        report.add(
            f"VOS answer, {batch} accounts",
            best_ref / max(1, ref_calls) * 1000,
            "ms",
            note="the reference's time per GetCustomer call: how fast this switch answers",
        )
        report.add(
            f"portal's own work, {batch} accounts",
            own_ms,
            "ms",
            note="decode, compare, write one batch, apart from VOS (the sweep overlaps them)",
        )
        report.add(
            "GetCustomer calls",
            calls,
            reference=ref_calls,
            better="lower",
            target=Target(min_ratio=1.0),
            note="ratio >= 1: no more calls than needed",
        )
        report.details.update(
            accounts=count,
            batch=batch,
            rows_changed=rows,
            repeats=repeats,
            seconds=best,
            reference_seconds=best_ref,
            autovacuum=autovacuum,
        )
    return report
