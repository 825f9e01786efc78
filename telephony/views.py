"""The customer's calls (local CDR store) and phone book (live VOS) pages, under /my/."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scoping import customer_required, own_account
from billing.services import Actor
from portal.templatetags.calls import END_REASONS, HANGUP_SIDES, end_reason

from .forms import CallFilterForm, PhoneBookEntryForm, PhoneBookImportForm
from .models import SyncState, VosAccount
from .selectors import calls_for, calls_page, calls_rows, calls_totals, day_bounds
from .services import (
    PhoneBookRefused,
    csv_cell,
    phonebook_csv,
    phonebook_entries,
    phonebook_entry_create,
    phonebook_entry_delete,
    phonebook_entry_find,
    phonebook_entry_update,
    phonebook_import,
    phonebook_limit,
)
from .sync import last_synced
from .vos import PhoneBookEntry, VosRejected, VosUnavailable

CSV_HEADER = (
    gettext_lazy("Start"),
    gettext_lazy("Caller"),
    gettext_lazy("Callee"),
    gettext_lazy("Duration (s)"),
    gettext_lazy("Billed (s)"),
    gettext_lazy("Cost"),
    gettext_lazy("Hang-up side"),
    gettext_lazy("End reason"),
)
CSV_BATCH = 500


def client_ip(request: HttpRequest) -> str | None:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)


def actor_of(request: HttpRequest) -> Actor:
    return Actor(user=request.user, ip=client_ip(request))


# --- Calls -----------------------------------------------------------------------------------


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


@customer_required
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    form = _call_filter(request)
    context = {
        "account": account,
        "form": form,
        "calls_synced_at": last_synced(account.server_id, SyncState.Job.CDRS),
    }
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
            totals=calls_totals(account, **query),
            params=_filter_params(form),
        )
    return render(request, "telephony/calls.html", context)


class _Echo:
    """A file-like object whose write() hands the CSV line back (for streaming)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(
    rows: Iterable[tuple], *, tz, header: list[str], sides: dict, reasons: dict
) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The BOM makes Excel read the file as UTF-8 (Chinese names and notes).
    yield "\ufeff" + writer.writerow(header)
    batch: list[str] = []
    for start, caller, callee, hold, billed, fee, side, reason in rows:
        batch.append(
            writer.writerow(
                [
                    timezone.localtime(start, tz).strftime("%Y-%m-%d %H:%M:%S"),
                    csv_cell(caller),
                    csv_cell(callee),
                    hold,
                    billed,
                    format(fee, "f"),
                    sides.get(side, side),
                    reasons.get(reason, reason),
                ]
            )
        )
        if len(batch) >= CSV_BATCH:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


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
    lines = _csv_lines(
        calls_rows(calls_for(account, **query)),
        tz=timezone.get_current_timezone(),
        header=[str(h) for h in CSV_HEADER],
        sides={k: str(v) for k, v in HANGUP_SIDES.items()},
        reasons={k: end_reason(k) for k in END_REASONS},
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = slugify(
        f"calls-{account.account}-{form.cleaned_data['start']}-{form.cleaned_data['end']}"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- Phone book ------------------------------------------------------------------------------


def _unavailable_notice() -> str:
    return _(
        "Your phone book is kept on the switch, so it cannot be shown or changed until the "
        "switch answers. Please try again in a few minutes."
    )


def _book_context(account: VosAccount, entries: list[PhoneBookEntry] | None) -> dict:
    limit = phonebook_limit(account)
    count = len(entries) if entries is not None else None
    return {
        "account": account,
        "entries": entries,
        "limit": limit,
        "count": count,
        "full": limit is not None and count is not None and count >= limit,
    }


def _entry_or_404(account: VosAccount, e164: str) -> PhoneBookEntry:
    entry = phonebook_entry_find(vos_account=account, e164=e164)
    if entry is None:
        raise Http404
    return entry


@customer_required
@require_GET
def phonebook(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    entries, notice, error = None, "", ""
    try:
        entries = phonebook_entries(vos_account=account)
    except VosUnavailable:
        notice = _unavailable_notice()
    except VosRejected as exc:
        error = exc.message
    context = _book_context(account, entries)
    context.update(vos_notice=notice, vos_error=error)
    return render(request, "telephony/phonebook.html", context)


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_add(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    form = PhoneBookEntryForm(request.POST or None)
    return _entry_form(
        request,
        account,
        form,
        editing=None,
        save=lambda entry: phonebook_entry_create(
            vos_account=account, entry=entry, actor=actor_of(request)
        ),
        done=_("%(number)s was added to your phone book."),
    )


def _entry_form(request, account, form, *, editing, save, done: str) -> HttpResponse:
    """Render the add/edit form; on a valid POST, save through VOS and put any refusal next
    to the field (ours) or over the form (VOS's own text)."""
    notice = ""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.entry())
        except PhoneBookRefused as exc:
            form.add_error(exc.field, exc.message)
        except VosRejected as exc:
            form.add_error(None, exc.message)
        except VosUnavailable:
            notice = _unavailable_notice()
            form.add_error(None, _("Nothing was saved."))
        else:
            messages.success(request, done % {"number": form.entry().e164})
            return redirect("customer:phonebook")
    return render(
        request,
        "telephony/phonebook_form.html",
        {"account": account, "form": form, "vos_notice": notice, "editing": editing},
    )


def _book_unavailable(request: HttpRequest, account: VosAccount) -> HttpResponse:
    context = _book_context(account, None)
    context["vos_notice"] = _unavailable_notice()
    return render(request, "telephony/phonebook.html", context)


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_edit(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    try:
        entry = _entry_or_404(account, e164)
    except VosUnavailable:
        return _book_unavailable(request, account)
    if request.method == "POST":
        form = PhoneBookEntryForm(request.POST)
    else:
        form = PhoneBookEntryForm(initial=PhoneBookEntryForm.initial_for(entry))
    return _entry_form(
        request,
        account,
        form,
        editing=entry,
        save=lambda new: phonebook_entry_update(
            vos_account=account, e164=entry.e164, entry=new, actor=actor_of(request)
        ),
        done=_("%(number)s was saved."),
    )


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_delete(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    try:
        entry = _entry_or_404(account, e164)
    except VosUnavailable:
        return _book_unavailable(request, account)
    error, notice = "", ""
    if request.method == "POST":
        try:
            phonebook_entry_delete(vos_account=account, e164=entry.e164, actor=actor_of(request))
        except VosRejected as exc:
            error = exc.message
        except VosUnavailable:
            notice = _unavailable_notice()
            error = _("Nothing was deleted.")
        else:
            messages.success(
                request, _("%(number)s was deleted from your phone book.") % {"number": entry.e164}
            )
            return redirect("customer:phonebook")
    return render(
        request,
        "telephony/phonebook_delete.html",
        {"account": account, "entry": entry, "error": error, "vos_notice": notice},
    )


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_import_view(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    form = PhoneBookImportForm(request.POST or None, request.FILES or None)
    result, notice = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            result = phonebook_import(
                vos_account=account,
                data=form.cleaned_data["file"].read(),
                overwrite=form.cleaned_data["overwrite"],
                actor=actor_of(request),
            )
        except PhoneBookRefused as exc:
            form.add_error(exc.field, exc.message)
        except VosRejected as exc:
            form.add_error(None, exc.message)
        except VosUnavailable:
            notice = _unavailable_notice()
            form.add_error(None, _("Nothing was imported."))
        else:
            if result.stopped:
                notice = _unavailable_notice()
    context = _book_context(account, None)
    context.update(form=form, result=result, vos_notice=notice)
    return render(request, "telephony/phonebook_import.html", context)


@customer_required
@require_GET
def phonebook_export(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    try:
        entries = phonebook_entries(vos_account=account)
    except VosUnavailable:
        messages.warning(request, _unavailable_notice())
        return redirect("customer:phonebook")
    except VosRejected as exc:
        messages.error(request, exc.message)
        return redirect("customer:phonebook")
    response = HttpResponse(
        "\ufeff" + phonebook_csv(entries), content_type="text/csv; charset=utf-8"
    )
    name = slugify(f"phonebook-{account.account}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response
