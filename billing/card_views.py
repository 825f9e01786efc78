"""The customer's calling-card top-up and their receipts (under /my/)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.scoping import customer_required, own_account
from accounts.services.audit import actor_for

from .card_forms import CardTopupForm
from .models import LedgerEntry
from .services import ledger, transfers
from .services.cards import CardRedemption, CardRefused, card_submit

CUSTOMER_KINDS = (LedgerEntry.Kind.TOPUP, LedgerEntry.Kind.DEDUCT, LedgerEntry.Kind.CARD)


@customer_required
@require_http_methods(["GET", "POST"])
def card_topup(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    if request.method == "GET":
        form = CardTopupForm(initial={"key": ledger.new_idempotency_key()})
        return _form(request, form, account)
    form = CardTopupForm(request.POST)
    try:
        done = ledger.ledger_entry_for_key(
            idempotency_key=request.POST.get("key", ""), user=request.user
        )
    except ledger.LedgerError:
        raise Http404 from None
    if done is not None:
        messages.info(request, _("This form was already submitted; here is its receipt."))
        return redirect("customer:receipt", pk=done.pk)
    if not form.is_valid():
        return _form(request, form, account)
    try:
        entry = card_submit(
            actor=actor_for(request),
            redemption=CardRedemption(
                customer=account,
                pin=form.cleaned_data["pin"],
                password=form.cleaned_data["password"],
                idempotency_key=form.cleaned_data["key"],
            ),
        )
    except CardRefused as exc:
        form.add_error(exc.field or None, exc.message)
        return _form(request, form, account)
    return redirect("customer:receipt", pk=entry.pk)


def _form(request: HttpRequest, form: CardTopupForm, account) -> HttpResponse:
    return render(request, "billing/card_topup.html", {"form": form, "account": account})


@customer_required
@require_http_methods(["GET", "POST"])
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    account = own_account(request.user)
    entry = (
        LedgerEntry.objects.select_related("server", "created_by")
        .filter(
            pk=pk, server_id=account.server_id, account=account.account, kind__in=CUSTOMER_KINDS
        )
        .first()
    )
    if entry is None:
        raise Http404
    if request.method == "POST":
        # "Check again": look in the pay history now, within a top-up's budget; never resent.
        transfers.transfer_advance(
            entry=entry, deadline=time.monotonic() + settings.TOPUP_WAIT_SECONDS
        )
        return redirect("customer:receipt", pk=entry.pk)
    return render(request, "billing/receipt.html", {"entry": entry, "customer": account})
