"""Discovery never trusts an empty or garbled listing; sync_vos isolates every job and server."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from telephony.models import SyncState, VosAccount, VosServer
from telephony.services import jobs

Job = SyncState.Job


@pytest.fixture
def discovered(vos_server):
    jobs.server_job_run(server=vos_server, job=Job.DISCOVERY)
    return vos_server


def _missing() -> int:
    return VosAccount.objects.filter(missing_since__isnull=False).count()


def test_an_empty_listing_while_the_mirror_has_accounts_changes_nothing(discovered, vos_emulator):
    vos_emulator.state.customers.clear()

    with pytest.raises(CommandError):
        call_command("sync_vos", "--only", "discovery")

    assert _missing() == 0
    state = SyncState.objects.get(server=discovered, job=Job.DISCOVERY)
    assert "listed no accounts while the mirror has" in state.last_error


def test_a_listing_without_its_list_changes_nothing_and_the_sweep_still_polls(
    discovered, vos_emulator
):
    vos_emulator.faults.update({"garbage_mode": "no_list", "garbage_interfaces": "GetAllCustomers"})
    with pytest.raises(CommandError):
        call_command("sync_vos", "--only", "discovery")
    assert _missing() == 0
    assert SyncState.objects.get(server=discovered, job=Job.DISCOVERY).last_error

    calls = vos_emulator.calls["GetCustomer"]
    call_command("sync_vos", "--only", "balances")
    assert vos_emulator.calls["GetCustomer"] > calls


def test_garbled_ids_in_a_listing_mark_nobody_missing(discovered, vos_emulator):
    vos_emulator.faults.update({"garbage_mode": "nulls", "garbage_interfaces": "GetAllCustomers"})
    with pytest.raises(CommandError):
        call_command("sync_vos", "--only", "discovery")
    assert _missing() == 0


def test_a_server_with_no_accounts_yet_is_an_ordinary_empty_discovery(vos_emulator, db):
    server = VosServer.objects.create(name="fresh", url=vos_emulator.url)
    vos_emulator.state.customers.clear()
    outcome = jobs.server_job_run(server=server, job=Job.DISCOVERY)
    assert outcome.rows == 0


def test_a_non_vos_error_in_one_job_skips_no_other_job_or_server(
    vos_server, vos_emulator, monkeypatch, capsys
):
    VosServer.objects.create(name="second", url=vos_emulator.url)
    spec = jobs.JOBS[Job.BALANCES]

    def broken(**kwargs):
        raise ZeroDivisionError("a bug in the balances job")

    monkeypatch.setitem(jobs.JOBS, Job.BALANCES, jobs.JobSpec(run=broken, lock_timeout=60))

    with pytest.raises(CommandError, match="2 job"):
        call_command("sync_vos")

    err = capsys.readouterr().err
    assert err.count("balances: failed: ZeroDivisionError: a bug in the balances job") == 2
    for server in VosServer.objects.all():
        states = {s.job: s for s in SyncState.objects.filter(server=server)}
        assert states[Job.BALANCES].last_error.startswith("ZeroDivisionError")
        for job in (Job.DISCOVERY, Job.CDRS, Job.PAYMENTS, Job.REPORTS):
            assert states[job].last_success_at is not None, (server.name, job)
    assert spec.run is not broken


def test_a_celery_run_records_a_non_vos_error_and_the_next_job_still_runs(vos_server, monkeypatch):
    from telephony import tasks

    def broken(**kwargs):
        raise KeyError("boom")

    monkeypatch.setitem(jobs.JOBS, Job.DISCOVERY, jobs.JobSpec(run=broken, lock_timeout=60))
    result = tasks.server_sync.apply(args=(vos_server.pk, Job.DISCOVERY))
    assert result.failed()
    assert SyncState.objects.get(server=vos_server, job=Job.DISCOVERY).last_error.startswith(
        "KeyError"
    )
    assert tasks.server_sync.apply(args=(vos_server.pk, Job.CDRS), throw=True).result["rows"] >= 0
