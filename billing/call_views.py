"""The customer's call history (local CDR store) and its CSV export, under /my/calls/."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.scoping import customer_required, own_account
from accounts.services.phonebook_names import phonebook_names
from telephony.calls_export import calls_export_rows
from telephony.countries import country_namer
from telephony.csvsafe import csv_cell
from telephony.labels import END_REASONS, HANGUP_SIDES, end_reason
from telephony.models import SyncState
from telephony.query_budget import QueryTooSlow, query_budget
from telephony.selectors import (
    CONTAINS,
    CallTotals,
    calls_for,
    calls_page,
    calls_totals,
    day_bounds,
    last_synced,
    period_totals,
)

from .customer_forms import CallFilterForm
from .selectors import window_totals

logger = logging.getLogger(__name__)

CSV_HEADER = (
    gettext_lazy("Start"),
    gettext_lazy("Caller"),
    gettext_lazy("Callee"),
    gettext_lazy("Duration (s)"),
    gettext_lazy("Billed (s)"),
    gettext_lazy("Cost"),
    gettext_lazy("Hang-up side"),
    gettext_lazy("End reason"),
    gettext_lazy("Callee country"),
)
CSV_KEYS = ("Start", "Caller", "Callee", "Duration", "Billed", "Cost", "Side", "Reason", "Country")
# A search anywhere in the number reads every call of the window: past this many calls the
# page says so and offers the last SHORTER_WINDOW_DAYS days instead.
SLOW_SEARCH_CALLS = 50_000
SHORTER_WINDOW_DAYS = 7


def _call_filter(request: HttpRequest) -> CallFilterForm:
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):
        today = timezone.localdate().isoformat()
        data["start"] = data["end"] = today
    return CallFilterForm(data)


def _call_query(form: CallFilterForm) -> dict:
    """The selector's keyword arguments for a valid filter form."""
    first, last = form.cleaned_data["start"], form.cleaned_data["end"]
    start, end = day_bounds(first, last, timezone.get_current_timezone())
    return {"start": start, "end": end, **form.filters()}


def _filter_params(form: CallFilterForm) -> str:
    data = form.cleaned_data
    params = {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
    for key in ("q", "match", "outcome"):
        if data.get(key) and not (key == "match" and not data.get("q")):
            params[key] = data[key]
    return urlencode(params)


def _slow_search(account, form: CallFilterForm, query: dict) -> str:
    """For a search anywhere in the number over more than SLOW_SEARCH_CALLS calls: the query
    string of the same search over the last SHORTER_WINDOW_DAYS days of the window (no index
    can serve a substring, so every call of the window is read); "" otherwise."""
    data = form.cleaned_data
    if not data.get("q") or data.get("match") != CONTAINS:
        return ""
    if (data["end"] - data["start"]).days < SHORTER_WINDOW_DAYS:
        return ""
    if period_totals(account, start=query["start"], end=query["end"]).calls <= SLOW_SEARCH_CALLS:
        return ""
    shorter = {
        "start": (data["end"] - timedelta(days=SHORTER_WINDOW_DAYS - 1)).isoformat(),
        "end": data["end"].isoformat(),
        "q": data["q"],
        "match": CONTAINS,
    }
    if data.get("outcome"):
        shorter["outcome"] = data["outcome"]
    return urlencode(shorter)


def _filtered(query: dict) -> bool:
    """A number or outcome filter: its totals add up raw rows (no rollup has numbers)."""
    return bool(query.get("search") or query.get("outcome"))


def _bounded_totals(account, query: dict) -> CallTotals | None:
    """A filtered view's totals within CALLS_TOTALS_BUDGET_SECONDS; None past it."""
    try:
        with query_budget(settings.CALLS_TOTALS_BUDGET_SECONDS):
            return calls_totals(account, **query)
    except QueryTooSlow:
        logger.warning(
            "calls totals over budget account=%s start=%s end=%s",
            account.account,
            query["start"].isoformat(),
            query["end"].isoformat(),
        )
        return None


def _totals_context(account, form: CallFilterForm, query: dict, request, synced_at) -> dict:
    """The totals of the page: an unfiltered window's at once (rollups, cached per sync); a
    filtered view's are added up by a request of their own (calls_totals below, fetched by
    static/js/calls-totals.js) so the rows never wait on them; ``?totals=1`` adds them in
    the page itself (the link shown without JavaScript)."""
    if not _filtered(query):
        start, end = query["start"], query["end"]
        return {"totals": window_totals(account, start=start, end=end, calls_synced_at=synced_at)}
    if request.GET.get("totals"):
        totals = _bounded_totals(account, query)
        return {"totals": totals, "totals_too_slow": totals is None}
    url = f"{reverse('customer:calls_totals')}?{_filter_params(form)}"
    return {"totals": None, "totals_url": url}


@customer_required
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    form = _call_filter(request)
    synced_at = last_synced(account.server_id, SyncState.Job.CDRS)
    context = {"account": account, "form": form, "calls_synced_at": synced_at}
    if form.is_valid():
        query = _call_query(form)
        page = calls_page(
            calls_for(account, **query),
            older_than=request.GET.get("older"),
            newer_than=request.GET.get("newer"),
        )
        context.update(
            page=page,
            calls=page.calls,
            # The names the customer saved for the numbers (live phone book, cached).
            phonebook_names=phonebook_names(vos_account=account) if page.calls else {},
            **_totals_context(account, form, query, request, synced_at),
            params=_filter_params(form),
            slow_search=_slow_search(account, form, query),
            shorter_days=SHORTER_WINDOW_DAYS,
        )
    return render(request, "telephony/calls.html", context)


@customer_required
@require_GET
def calls_totals_part(request: HttpRequest) -> HttpResponse:
    """The totals of a filtered view, as the fragment the calls page puts in place."""
    account = own_account(request.user)
    form = _call_filter(request)
    if not form.is_valid():
        return HttpResponse(status=400)
    query = _call_query(form)
    totals = _bounded_totals(account, query)
    context = {"totals": totals, "totals_too_slow": totals is None, "form": form}
    return render(request, "telephony/_calls_totals.html", context)


class _Sink:
    """Collects what csv.writer writes; ``take()`` hands it over and starts again."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, value: str) -> None:
        self.parts.append(value)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def _csv_header(tz_name: str) -> list[str]:
    """The CSV's column names; the start names its time zone and the cost its currency."""
    named = {
        "Start": _("Start (%(tz)s)") % {"tz": tz_name},
        "Cost": _("Cost (%(currency)s)") % {"currency": settings.PORTAL_CURRENCY or "—"},
    }
    return [named.get(key, str(h)) for key, h in zip(CSV_KEYS, CSV_HEADER, strict=True)]


def _csv_lines(
    chunks: Iterable[list[tuple]], *, header: list[str], language: str = "en"
) -> Iterator[str]:
    """The CSV text, one piece per chunk of ready-made rows (telephony.calls_export), each
    with the callee's country (telephony.countries.country_namer: once per deciding prefix)."""
    sink = _Sink()
    writer = csv.writer(sink)
    country = country_namer(language, wrap=csv_cell)

    # The BOM makes Excel read the file as UTF-8 (Chinese names and notes).
    writer.writerow(header)
    yield "\ufeff" + sink.take()
    for rows in chunks:
        out = []
        add = out.append
        for row in rows:
            add((*row, country(row[2])))
        writer.writerows(out)
        yield sink.take()


@customer_required
@require_GET
def calls_csv(request: HttpRequest) -> HttpResponse:
    """The current filter as CSV, streamed in constant memory whatever its size."""
    account = own_account(request.user)
    form = _call_filter(request)
    if not form.is_valid():
        return redirect(f"{reverse('customer:calls')}?{request.GET.urlencode()}")
    query = _call_query(form)
    # Labels and the time zone are resolved now: the body is produced after the view returns.
    chunks = calls_export_rows(
        calls_for(account, **query),
        tz=timezone.get_current_timezone(),
        start=query["start"],
        end=query["end"],
        sides={k: str(v) for k, v in HANGUP_SIDES.items()},
        reasons={k: end_reason(k) for k in END_REASONS},
    )
    lines = _csv_lines(
        chunks,
        header=_csv_header(timezone.get_current_timezone_name()),
        language=get_language() or "en",
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = slugify(
        f"calls-{account.account}-{form.cleaned_data['start']}-{form.cleaned_data['end']}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- Phone book ------------------------------------------------------------------------------
