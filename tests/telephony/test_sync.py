"""The sync services against the emulator: each job twice, nothing changes the second time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Consumption, FeeReport, PayRecord
from telephony import selectors, vos
from telephony.models import Cdr, CdrRollup, SyncState, VosAccount
from telephony.services import balances, cdrs, jobs, mirror
from telephony.vos import VosUnavailable

from .factories import CdrFactory, VosAccountFactory, VosServerFactory, customer_answer

Job = SyncState.Job
DEMO_ACCOUNTS = {
    "agent01",
    "agent02",
    *(f"100{i}" for i in range(1, 7)),
    *(f"200{i}" for i in range(1, 5)),
    "3001",
}


def run(server, job):
    return jobs.server_job_run(server=server, job=job)


@pytest.fixture
def discovered(vos_server):
    run(vos_server, Job.DISCOVERY)
    return vos_server


def test_discovery_mirrors_every_account_with_its_agent(vos_server):
    outcome = run(vos_server, Job.DISCOVERY)

    accounts = dict(
        VosAccount.objects.filter(server=vos_server).values_list("account", "agent_account")
    )
    assert DEMO_ACCOUNTS <= set(accounts)
    assert accounts["1001"] == "agent01"
    assert accounts["2001"] == "agent02"
    assert accounts["3001"] == ""
    assert outcome.rows == len(accounts)
    state = SyncState.objects.get(server=vos_server, job=Job.DISCOVERY)
    assert state.last_success_at is not None and state.vos_calls >= 2


def test_discovery_twice_changes_nothing(discovered):
    before = list(VosAccount.objects.values_list("account", "agent_account", "balance"))

    outcome = run(discovered, Job.DISCOVERY)

    assert outcome.rows == 0
    assert list(VosAccount.objects.values_list("account", "agent_account", "balance")) == before


def test_discovery_marks_vanished_accounts_missing_and_clears_on_return(discovered, vos_emulator):
    gone = vos_emulator.state.customers.pop("3001")

    run(discovered, Job.DISCOVERY)
    assert VosAccount.objects.get(account="3001").missing_since is not None
    assert VosAccount.objects.get(account="1001").missing_since is None

    vos_emulator.state.customers["3001"] = gone
    run(discovered, Job.DISCOVERY)
    assert VosAccount.objects.get(account="3001").missing_since is None


def test_balances_store_figures_and_a_second_run_changes_nothing(discovered, vos_emulator):
    VosAccount.objects.filter(account="1001").update(balance=Decimal("-1"), balance_as_of=None)

    first = run(discovered, Job.BALANCES)
    account = VosAccount.objects.get(account="1001")
    assert account.balance == vos_emulator.state.balance("1001")
    assert VosAccount.objects.get(account="1006").locked
    assert first.rows == 1
    as_of = account.balance_as_of

    second = run(discovered, Job.BALANCES)
    assert second.rows == 0
    account.refresh_from_db()
    assert account.balance == vos_emulator.state.balance("1001")
    assert account.balance_as_of >= as_of


def test_balances_ask_many_accounts_per_call(discovered, vos_emulator, settings):
    settings.SYNC_BALANCE_BATCH = 4
    known = VosAccount.objects.filter(server=discovered).count()
    before = vos_emulator.calls["GetCustomer"]

    outcome = run(discovered, Job.BALANCES)

    calls = vos_emulator.calls["GetCustomer"] - before
    assert calls == -(-known // 4)
    assert outcome.vos_calls == calls


def test_an_older_reading_never_overwrites_a_newer_one(discovered):
    account = VosAccount.objects.get(account="1001")
    newer = account.balance_as_of
    old = customer_answer("1001", "999")

    stored = mirror.accounts_apply(
        server=discovered, answers=[old], read_at=newer - timedelta(seconds=5)
    )

    assert stored == 0
    account.refresh_from_db()
    assert account.balance != Decimal("999")
    assert account.balance_as_of == newer


def test_cdrs_are_stored_once_and_a_second_run_adds_nothing(discovered):
    first = run(discovered, Job.CDRS)
    count = Cdr.objects.count()
    assert first.rows == count > 0

    second = run(discovered, Job.CDRS)

    assert second.rows == 0
    assert Cdr.objects.count() == count
    latest = Cdr.objects.filter(account="1001").order_by("-start").first()
    if latest:
        assert VosAccount.objects.get(account="1001").last_call_at == latest.start


def test_an_overlapping_cdr_window_adds_no_duplicates(discovered, vos_emulator):
    client = jobs.run_client(discovered)
    today = selectors.server_today(discovered)
    cdrs.cdrs_fetch(
        server=discovered,
        client=client,
        first=today - timedelta(days=6),
        last=today - timedelta(days=3),
    )
    count = Cdr.objects.count()
    assert count > 0

    added = cdrs.cdrs_fetch(
        server=discovered,
        client=client,
        first=today - timedelta(days=4),
        last=today - timedelta(days=1),
    )

    assert Cdr.objects.count() == count + added
    keys = list(Cdr.objects.values_list("natural_key", flat=True))
    assert len(keys) == len(set(keys))
    assert (
        cdrs.cdrs_fetch(
            server=discovered,
            client=client,
            first=today - timedelta(days=6),
            last=today - timedelta(days=1),
        )
        == 0
    )


def test_cdrs_without_flow_no_are_deduplicated_by_their_fields(discovered, vos_emulator):
    vos_emulator.faults.cdr_flow_no = False
    run(discovered, Job.CDRS)
    count = Cdr.objects.count()
    assert count > 0
    assert not Cdr.objects.filter(flow_no__isnull=False).exists()

    assert run(discovered, Job.CDRS).rows == 0
    assert Cdr.objects.count() == count


def test_a_refused_cdr_interval_is_split_until_the_server_accepts_it(discovered, vos_emulator):
    vos_emulator.faults.cdr_max_days = 1
    today = selectors.server_today(discovered)

    call_command(
        "cdr_backfill",
        "--server",
        discovered.name,
        "--from",
        f"{today - timedelta(days=6):%Y-%m-%d}",
        "--to",
        f"{today:%Y-%m-%d}",
    )
    count = Cdr.objects.count()
    assert count > 0
    # Same window with no limit: nothing was missed.
    vos_emulator.faults.cdr_max_days = 31
    cdrs.cdr_backfill(server=discovered, first=today - timedelta(days=6), last=today)
    assert Cdr.objects.count() == count


def test_a_backfill_reports_each_window_once_its_batches_are_all_stored(
    discovered, vos_emulator, monkeypatch
):
    # One account per GetCdr call, so every window is several batches fetched in one stream.
    monkeypatch.setattr(cdrs, "CDR_ACCOUNTS_PER_CALL", 1)
    today = selectors.server_today(discovered)
    first = today - timedelta(days=9)
    accounts = VosAccount.objects.filter(server=discovered).count()
    before = vos_emulator.calls["GetCdr"]
    reported = []

    def progress(begin, end, rows):
        reported.append((begin, end, rows, Cdr.objects.count()))

    added = cdrs.cdr_backfill(server=discovered, first=first, last=today, progress=progress)

    assert added > 0
    # 10 days in windows of CDR_WINDOW_DAYS (7): two windows, each reported once.
    assert [(begin, end) for begin, end, _, _ in reported] == [
        (first, first + timedelta(days=6)),
        (first + timedelta(days=7), today),
    ]
    assert sum(rows for _, _, rows, _ in reported) == added == Cdr.objects.count()
    # Each report comes after its window's rows are stored, before the next window's.
    first_window_rows = reported[0][2]
    assert reported[0][3] == first_window_rows
    second_window_start = selectors.day_start(discovered, first + timedelta(days=7))
    assert first_window_rows == Cdr.objects.filter(start__lt=second_window_start).count()
    assert vos_emulator.calls["GetCdr"] - before == 2 * accounts


def test_deleting_a_server_deletes_its_call_records_and_rollups(discovered):
    run(discovered, Job.CDRS)
    other = VosServerFactory()
    CdrFactory(server=other)
    assert Cdr.objects.filter(server=discovered).exists()
    assert CdrRollup.objects.filter(server=discovered).exists()

    # A server with accounts is protected; once they are gone, the server goes with its
    # call records and rollups (Django's cascade: the tables hold no foreign key).
    VosAccount.objects.filter(server=discovered).delete()
    discovered.delete()

    assert not Cdr.objects.filter(server_id=discovered.pk).exists()
    assert not CdrRollup.objects.filter(server_id=discovered.pk).exists()
    assert Cdr.objects.filter(server=other).count() == 1


def test_the_cdr_job_remembers_the_window_the_server_accepts(discovered, vos_emulator):
    vos_emulator.faults.cdr_max_days = 1
    SyncState.objects.create(
        server=discovered, job=Job.CDRS, cursor={"closed_through": "2000-01-01"}
    )

    run(discovered, Job.CDRS)

    state = SyncState.objects.get(server=discovered, job=Job.CDRS)
    assert state.cursor["window_days"] == 1
    assert state.last_error == ""


def test_yesterday_is_asked_until_it_is_surely_closed(discovered):
    state = SyncState.objects.create(server=discovered, job=Job.CDRS)
    client = jobs.run_client(discovered)
    midnight = selectors.day_start(discovered, selectors.server_today(discovered))

    cdrs.cdrs_sync(
        server=discovered, client=client, state=state, now=midnight + timedelta(minutes=30)
    )
    yesterday = selectors.server_today(discovered) - timedelta(days=1)
    assert state.cursor["closed_through"] == (yesterday - timedelta(days=1)).isoformat()

    cdrs.cdrs_sync(server=discovered, client=client, state=state, now=midnight + timedelta(hours=4))
    assert state.cursor["closed_through"] == yesterday.isoformat()


def test_pay_history_is_mirrored_once(discovered):
    first = run(discovered, Job.PAYMENTS)
    count = PayRecord.objects.count()
    assert first.rows == count > 0
    assert PayRecord.objects.filter(account="1001").exists()

    # The next run looks back from the last one; reset the cursor to ask everything again.
    SyncState.objects.filter(server=discovered, job=Job.PAYMENTS).update(cursor={})
    assert run(discovered, Job.PAYMENTS).rows == 0
    assert PayRecord.objects.count() == count


def test_fee_reports_are_upserted_per_day(discovered):
    first = run(discovered, Job.REPORTS)
    count = FeeReport.objects.count()
    assert first.rows >= count > 0
    consumption = Consumption.objects.count()

    SyncState.objects.filter(server=discovered, job=Job.REPORTS).update(cursor={})
    assert run(discovered, Job.REPORTS).rows == 0
    assert FeeReport.objects.count() == count
    assert Consumption.objects.count() == consumption


def test_a_job_already_running_for_a_server_is_skipped(discovered):
    with jobs.job_lock(key=f"{discovered.pk}:{Job.BALANCES}", timeout=60) as taken:
        assert taken
        outcome = run(discovered, Job.BALANCES)
    assert outcome.skipped
    assert not run(discovered, Job.BALANCES).skipped


def test_the_lock_is_released_only_by_its_owner(db):
    with jobs.job_lock(key="x", timeout=60) as first:
        with jobs.job_lock(key="x", timeout=60) as second:
            assert first and not second
        # The loser leaving does not free the winner's lock.
        with jobs.job_lock(key="x", timeout=60) as third:
            assert not third
    with jobs.job_lock(key="x", timeout=60) as again:
        assert again


def test_a_failed_run_is_recorded(vos_server, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    with pytest.raises(vos.VosError):
        run(vos_server, Job.DISCOVERY)
    state = SyncState.objects.get(server=vos_server, job=Job.DISCOVERY)
    assert state.last_error.startswith("VosUnavailable")
    assert state.last_success_at is None
    assert state.vos_calls >= 1


def test_sync_vos_runs_every_job_inline(vos_server, capsys):
    call_command("sync_vos", "--server", vos_server.name)

    out = capsys.readouterr().out
    for job in ("discovery", "balances", "cdrs", "payments", "reports"):
        assert f"{vos_server.name} {job}:" in out
    assert SyncState.objects.filter(server=vos_server, last_success_at__isnull=False).count() == 5
    assert selectors.last_synced(vos_server, "balances") is not None
    assert selectors.last_synced(vos_server.pk, "reconcile") is None


def test_sync_vos_only_one_job(vos_server):
    call_command("sync_vos", "--only", "discovery")
    assert set(SyncState.objects.values_list("job", flat=True)) == {"discovery"}


def test_retention_prunes_old_cdrs_in_batches(vos_server, settings):
    settings.CDR_RETENTION_DAYS = 30
    old = timezone.now() - timedelta(days=31)
    for _ in range(7):
        CdrFactory(server=vos_server, start=old)
    keep = CdrFactory(server=vos_server)

    assert cdrs.cdrs_prune(before=timezone.now() - timedelta(days=30), batch_size=3) == 7
    assert list(Cdr.objects.values_list("pk", flat=True)) == [keep.pk]
    assert cdrs.cdrs_retention_prune() == 0


def test_missing_accounts_are_not_polled(discovered, vos_emulator):
    VosAccountFactory(server=discovered, account="gone", missing_since=timezone.now())
    assert "gone" not in selectors.known_accounts(discovered)


def test_discovery_on_a_2_1_7_build_asks_get_customer_for_every_account(vos_server, vos_emulator):
    client = jobs.run_client(vos_server)
    # 2.1.7 has no {"type":1} form of GetAllCustomers: only account ids come back.
    client.get_all_customer_briefs = lambda: None

    jobs.server_job_run(server=vos_server, job=Job.DISCOVERY, client=client)

    accounts = dict(VosAccount.objects.values_list("account", "agent_account"))
    assert DEMO_ACCOUNTS <= set(accounts)
    assert accounts["2003"] == "agent02"
    assert client.stats.by_interface["GetCustomer"] == 1


def test_a_changed_agent_is_picked_up_by_discovery(discovered, vos_emulator):
    vos_emulator.state.customers["3001"]["agentAccount"] = "agent02"
    assert run(discovered, Job.DISCOVERY).rows == 1
    assert VosAccount.objects.get(account="3001").agent_account == "agent02"


def test_ten_thousand_accounts_take_at_most_50_get_customer_calls(db):
    from telephony.emulator import EmulatorServer, EmulatorState

    # scale(N) adds 50 agent accounts by default; agents=0 makes it exactly 10,000 accounts.
    state = EmulatorState.scale(10000, agents=0)
    emulator = EmulatorServer(host="127.0.0.1", port=0, state=state).start()
    try:
        server = VosServerFactory(name="big", url=emulator.url, read_timeout=30)
        run(server, Job.DISCOVERY)
        assert VosAccount.objects.filter(server=server).count() == 10000
        before = emulator.calls["GetCustomer"]

        outcome = run(server, Job.BALANCES)

        assert emulator.calls["GetCustomer"] - before <= 50
        assert outcome.vos_calls <= 50
        assert outcome.rows == 0
    finally:
        emulator.stop()


def test_a_balance_sweep_writes_only_moved_figures_and_vouches_for_the_rest(discovered):
    run(discovered, Job.BALANCES)
    quiet = VosAccount.objects.get(account="1002")
    written_at = quiet.balance_as_of
    before = timezone.now()

    outcome = run(discovered, Job.BALANCES)

    discovered.refresh_from_db()
    quiet = VosAccount.objects.select_related("server").get(account="1002")
    assert outcome.rows == 0
    assert quiet.balance_as_of == written_at  # no write for figures that did not move
    assert before <= discovered.balances_confirmed_at <= timezone.now()
    assert quiet.figures_as_of == discovered.balances_confirmed_at


def test_a_sweep_that_fails_vouches_for_nothing(discovered, vos_emulator):
    run(discovered, Job.BALANCES)
    discovered.refresh_from_db()
    confirmed = discovered.balances_confirmed_at
    vos_emulator.faults.update({"error_rate": 1.0})
    try:
        with pytest.raises(VosUnavailable):
            balances.balances_sync(
                server=discovered, client=jobs.run_client(discovered), batch_size=4
            )
    finally:
        vos_emulator.faults.update({"error_rate": 0.0})

    discovered.refresh_from_db()
    assert discovered.balances_confirmed_at == confirmed


def test_the_sweep_does_not_vouch_for_a_missing_account(discovered):
    run(discovered, Job.BALANCES)
    written_at = timezone.now() - timedelta(hours=3)
    VosAccount.objects.filter(account="1002").update(
        balance_as_of=written_at, missing_since=written_at
    )

    gone = VosAccount.objects.select_related("server").get(account="1002")

    assert gone.figures_as_of == written_at


def test_the_sweep_does_not_vouch_for_an_account_mirrored_after_it_began(discovered):
    run(discovered, Job.BALANCES)
    newcomer = VosAccountFactory(server=discovered, account="9999", balance_as_of=None)

    newcomer = VosAccount.objects.select_related("server").get(pk=newcomer.pk)

    assert newcomer.server.balances_confirmed_at is not None
    assert newcomer.figures_as_of is None
