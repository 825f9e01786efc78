"""The staff sync status page (/staff/status/): every server's jobs, and a button to run one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Phone, SyncState, VosServer
from .tasks import server_sync

Job = SyncState.Job
JOBS = [Job.DISCOVERY, Job.BALANCES, Job.CDRS, Job.PAYMENTS, Job.REPORTS]


def expected_interval(job: str) -> timedelta:
    """How often a job is scheduled to succeed (the reports run nightly)."""
    seconds = {
        Job.DISCOVERY: settings.SYNC_DISCOVERY_INTERVAL,
        Job.BALANCES: settings.SYNC_BALANCES_INTERVAL,
        Job.CDRS: settings.SYNC_CDRS_INTERVAL,
        Job.PAYMENTS: settings.SYNC_PAYMENTS_INTERVAL,
        Job.RECONCILE: settings.SYNC_RECONCILE_INTERVAL,
    }.get(job, 24 * 60 * 60)
    return timedelta(seconds=seconds)


@dataclass
class JobRow:
    job: str
    label: str
    state: SyncState | None
    health: str  # ok | late | failing | never

    @property
    def failing_since(self) -> datetime | None:
        return self.state.last_error_at if self.health == "failing" else None


def _health(job: str, state: SyncState | None, now: datetime) -> str:
    if state is None or (state.last_success_at is None and state.last_error_at is None):
        return "never"
    if state.last_error and (
        state.last_success_at is None or state.last_error_at > state.last_success_at
    ):
        return "failing"
    # Three missed runs (plus a minute of slack) make a job late.
    if now - state.last_success_at > 3 * expected_interval(job) + timedelta(minutes=1):
        return "late"
    return "ok"


def server_rows(now: datetime) -> list[dict]:
    """Every server with its jobs' health (the status page and the staff home)."""
    servers = VosServer.objects.annotate(
        accounts_count=Count(
            "accounts", filter=Q(accounts__missing_since__isnull=True), distinct=True
        ),
        missing_count=Count(
            "accounts", filter=Q(accounts__missing_since__isnull=False), distinct=True
        ),
    )
    states: dict[tuple[int, str], SyncState] = {
        (s.server_id, s.job): s for s in SyncState.objects.all()
    }
    online = dict(
        Phone.objects.filter(online=True)
        .values("server")
        .annotate(n=Count("pk"))
        .values_list("server", "n")
    )
    labels = dict(Job.choices)
    rows = []
    for server in servers:
        jobs = [
            JobRow(
                job=job,
                label=labels[job],
                state=states.get((server.pk, job)),
                health=_health(job, states.get((server.pk, job)), now),
            )
            for job in [*JOBS, Job.RECONCILE]
            if job in JOBS or (server.pk, job) in states
        ]
        rows.append({"server": server, "jobs": jobs, "phones_online": online.get(server.pk, 0)})
    return rows


@staff_member_required
def status(request):
    if request.method == "POST":
        return _run_now(request)
    now = timezone.now()
    return render(
        request,
        "telephony/status.html",
        {"servers": server_rows(now), "now": now, "runnable": [str(j) for j in JOBS]},
    )


def _run_now(request):
    server = VosServer.objects.filter(pk=request.POST.get("server"), enabled=True).first()
    job = request.POST.get("job")
    if server is None or job not in JOBS:
        messages.error(request, _("Choose an enabled server and a job."))
    else:
        server_sync.delay(server.pk, job)
        messages.success(
            request,
            _("%(job)s on %(server)s queued; refresh this page in a moment.")
            % {"job": dict(Job.choices)[job], "server": server.name},
        )
    return redirect("staff_status")
