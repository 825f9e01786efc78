"""The customer's money pages: dashboard, payments, statement (all under /my/)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.scoping import customer_required, own_account, profile_of
from accounts.services.phones import current_calls
from telephony.models import SyncState, VosAccount
from telephony.selectors import day_bounds, last_synced, sync_states
from telephony.services.mirror import Refresh, account_refresh

from .customer_forms import MAX_CALL_RANGE_DAYS, StatementForm
from .models import OnlinePayment
from .selectors import (
    SPEND_CACHE_SECONDS,
    burn_rate,
    payments_awaiting,
    payments_for,
    recent_spend,
    spend_chart,
    statement_kept,
)

PAYMENTS_PER_PAGE = 25
ONLINE_PAYMENTS_SHOWN = 20


def stale_notice(refresh: Refresh) -> str:
    """The page notice when VOS did not answer the balance read in time."""
    as_of = refresh.account.figures_as_of
    if as_of is None:
        return _("No figures have been received from it yet.")
    when = formats.date_format(timezone.localtime(as_of), "Y-m-d H:i")
    return _("The figures below are as of %(time)s.") % {"time": when}


def refresh_due(account: VosAccount, *, now: datetime | None = None) -> bool:
    """Whether the mirror's figures are too old to show without asking VOS first.

    The balance job reads every account each minute and VOS pushes balance changes, so the
    mirror is usually seconds old; asking VOS on every page view only loads the switch.
    """
    as_of = account.figures_as_of
    if as_of is None:
        return True
    max_age = timedelta(seconds=getattr(settings, "DASHBOARD_REFRESH_AFTER_SECONDS", 30))
    return (now or timezone.now()) - as_of >= max_age


def _offset(zone: str):
    """The zone's UTC offset now (two zones with the same offset share today)."""
    return timezone.now().astimezone(ZoneInfo(zone)).utcoffset()


@customer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    refreshed = refresh_due(account)
    refresh = account_refresh(vos_account=account) if refreshed else Refresh(account=account)
    account = refresh.account
    profile = profile_of(request.user)
    today = timezone.localdate()
    calls_synced_at = last_synced(account.server_id, SyncState.Job.CDRS)
    series = recent_spend(
        account,
        today=today,
        tz=timezone.get_current_timezone(),
        calls_synced_at=calls_synced_at,
    )
    threshold = profile.threshold
    # The user's own day from the call records (the calls page's "Today" sums the same
    # rollups); the switch's todayConsumption counts the switch's day and is shown as such.
    switch_tz = account.server.time_zone
    context = {
        "account": account,
        "stale": refresh.stale,
        # Read from VOS during this request (otherwise the mirror's figures are shown).
        "live": refreshed and not refresh.stale,
        "as_of": account.figures_as_of,
        "threshold": threshold,
        "low_balance": account.balance < threshold,
        "spent_today": series[-1],
        "switch_tz": switch_tz,
        "switch_day_differs": _offset(switch_tz) != _offset(str(timezone.get_current_timezone())),
        "chart": spend_chart(series),
        "chart_cache_seconds": SPEND_CACHE_SECONDS,
        "burn": burn_rate(series, available=account.available_credit, today=today),
        "calls_synced_at": calls_synced_at,
        "vos_notice": stale_notice(refresh) if refresh.stale else "",
        # Never a second wait on a switch that just failed the balance read.
        "calls_now": current_calls(account=account, ask=not refresh.stale),
    }
    return render(request, "customer/dashboard.html", context)


@customer_required
def payments(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    page = Paginator(payments_for(account), PAYMENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/payments.html",
        {
            "account": account,
            "page": page,
            "payments": page.object_list,
            "awaiting": payments_awaiting(account) if page.number == 1 else [],
            "payments_synced_at": last_synced(account.server_id, SyncState.Job.PAYMENTS),
            "online_payments": OnlinePayment.objects.filter(
                server_id=account.server_id, account=account.account
            ).order_by("-created_at")[:ONLINE_PAYMENTS_SHOWN],
        },
    )


@customer_required
def statement(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    form = StatementForm(request.GET or {"month": timezone.localdate().strftime("%Y-%m")})
    result, first, last, to_date = None, None, None, False
    sync = sync_states(account.server_id)
    if form.is_valid():
        first, last = form.cleaned_data["first"], form.cleaned_data["last"]
        start, end = day_bounds(first, last, timezone.get_current_timezone())
        synced = [sync[job].last_success_at if job in sync else None for job in SyncState.Job]
        result = statement_kept(account, start=start, end=end, synced=synced)
        to_date = result.end < end
    return render(
        request,
        "billing/statement.html",
        {
            "account": account,
            "form": form,
            "statement": result,
            "first": first,
            "last": last,
            "to_date": to_date,
            "calls_link": first is not None and (last - first).days < MAX_CALL_RANGE_DAYS,
            "sync": sync,
        },
    )
