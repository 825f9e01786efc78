"""Run the sync jobs inline, without Celery: `manage.py sync_vos [--only JOB] [--server NAME]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from telephony.models import SyncState, VosServer
from telephony.services.jobs import server_job_run
from telephony.vos import VosError


def fault_name(exc: BaseException) -> str:
    if isinstance(exc, VosError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# The order a fresh mirror needs: accounts first, then what hangs off them.
ORDER = [
    SyncState.Job.DISCOVERY,
    SyncState.Job.BALANCES,
    SyncState.Job.CDRS,
    SyncState.Job.PAYMENTS,
    SyncState.Job.REPORTS,
]


class Command(BaseCommand):
    help = "Run the VOS sync jobs now, in this process (all jobs on all enabled servers)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            choices=[str(j) for j in ORDER],
            action="append",
            help="Run only this job (may be repeated).",
        )
        parser.add_argument("--server", help="Only this server (its name); default: all enabled.")

    def handle(self, *args, only=None, server=None, **options):
        servers = VosServer.objects.all() if server else VosServer.objects.filter(enabled=True)
        if server:
            servers = servers.filter(name=server)
            if not servers.exists():
                raise CommandError(f"no VOS server named {server!r}")
        jobs = [j for j in ORDER if not only or j in only]
        failures = 0
        for vos_server in servers:
            for job in jobs:
                try:
                    outcome = server_job_run(server=vos_server, job=job)
                except Exception as exc:
                    # Any fault, VOS's or ours, is already in SyncState; the next job and
                    # server still run.
                    failures += 1
                    self.stderr.write(f"{vos_server.name} {job}: failed: {fault_name(exc)}")
                    continue
                if outcome.skipped:
                    self.stdout.write(
                        f"{vos_server.name} {job}: already running elsewhere, skipped"
                    )
                else:
                    self.stdout.write(
                        f"{vos_server.name} {job}: {outcome.rows} rows, "
                        f"{outcome.vos_calls} VOS calls, {outcome.duration_ms} ms"
                    )
        if failures:
            raise CommandError(f"{failures} job(s) failed; see above and SyncState")
