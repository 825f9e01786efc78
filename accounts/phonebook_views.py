"""The customer's phone book pages (kept live on the switch), under /my/phonebook/."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from telephony.errors import Refused
from telephony.models import VosAccount
from telephony.vos import PhoneBookEntry, VosRejected, VosUnavailable

from .phonebook_forms import PhoneBookEntryForm, PhoneBookImportForm
from .scoping import customer_required, own_account
from .services.audit import actor_for
from .services.phonebook import (
    phonebook_csv,
    phonebook_entries,
    phonebook_entry_create,
    phonebook_entry_delete,
    phonebook_entry_find,
    phonebook_entry_update,
    phonebook_import,
    phonebook_limit,
)


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
            vos_account=account, entry=entry, actor=actor_for(request)
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
        except Refused as exc:
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


def _book_unavailable(request: HttpRequest, account: VosAccount, error: str = "") -> HttpResponse:
    """The book page without a list: a notice when VOS is silent, its text when it refused."""
    context = _book_context(account, None)
    context.update(vos_notice="" if error else _unavailable_notice(), vos_error=error)
    return render(request, "telephony/phonebook.html", context)


def _entry_or_response(
    request: HttpRequest, account: VosAccount, e164: str
) -> PhoneBookEntry | HttpResponse:
    """The entry ``e164`` of the account's book, read on the switch; the book page with a
    notice (silent) or VOS's text (refused) when it cannot be read; 404 when it is not there."""
    try:
        entry = phonebook_entry_find(vos_account=account, e164=e164)
    except VosUnavailable:
        return _book_unavailable(request, account)
    except VosRejected as exc:
        return _book_unavailable(request, account, exc.message)
    if entry is None:
        raise Http404
    return entry


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_edit(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    entry = _entry_or_response(request, account, e164)
    if isinstance(entry, HttpResponse):
        return entry
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
            vos_account=account, e164=entry.e164, entry=new, actor=actor_for(request)
        ),
        done=_("%(number)s was saved."),
    )


@customer_required
@require_http_methods(["GET", "POST"])
def phonebook_delete(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    entry = _entry_or_response(request, account, e164)
    if isinstance(entry, HttpResponse):
        return entry
    error, notice = "", ""
    if request.method == "POST":
        try:
            phonebook_entry_delete(vos_account=account, e164=entry.e164, actor=actor_for(request))
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
                actor=actor_for(request),
            )
        except Refused as exc:
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
