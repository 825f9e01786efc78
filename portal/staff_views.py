"""The staff home (/staff/): what needs a look today, and the way into the admin and back."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from billing.models import LedgerEntry
from telephony.staff_views import server_rows

# A pending row older than this is not a request still waiting for its answer.
STUCK_AFTER = timedelta(minutes=2)


@staff_member_required
def staff_home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    servers = server_rows(now)
    failing = [
        (row["server"], job)
        for row in servers
        for job in row["jobs"]
        if job.health in ("failing", "late")
    ]
    State = LedgerEntry.State
    open_rows = {
        row["state"]: row
        for row in LedgerEntry.objects.filter(state__in=(State.UNKNOWN, State.PENDING))
        .values("state")
        .annotate(n=Count("pk"), oldest=Min("created_at"))
    }
    stuck = LedgerEntry.objects.filter(
        state=State.PENDING, created_at__lt=now - STUCK_AFTER
    ).count()
    return render(
        request,
        "portal/staff_home.html",
        {
            "now": now,
            "servers": servers,
            "failing": failing,
            "unknown": open_rows.get(State.UNKNOWN, {"n": 0, "oldest": None}),
            "pending": open_rows.get(State.PENDING, {"n": 0, "oldest": None}),
            "stuck": stuck,
        },
    )
