"""The customer's phones, under /my/phones/: live state, SIP password, monthly cap."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from telephony.models import VosAccount

from .phone_forms import PhoneCapForm, SipPasswordForm
from .scoping import customer_required, own_account
from .services.audit import actor_for
from .services.phones import (
    PhoneRefused,
    PhoneRow,
    cap_ceiling,
    phone_cap_set,
    phones_view,
    sip_password_change,
)


@customer_required
def phones(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    view = phones_view(account=account)
    return render(
        request,
        "accounts/phones.html",
        {"account": account, "view": view, "ceiling": cap_ceiling(account=account)},
    )


def _own_phone(account: VosAccount, e164: str) -> PhoneRow:
    """One of the account's phones (live, or the mirror's), else a 404."""
    for row in phones_view(account=account).phones:
        if row.e164 == e164:
            return row
    raise Http404


@never_cache
@customer_required
@require_http_methods(["GET", "POST"])
def phone_password(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    phone = _own_phone(account, e164)
    form = SipPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"]
        try:
            sip_password_change(
                actor=actor_for(request), account=account, e164=e164, password=password
            )
        except PhoneRefused as exc:
            form.add_error(exc.field if exc.field == "password" else None, exc.message)
        else:
            # Shown once, on this answer only (never stored, never in a redirect or a message).
            response = render(
                request, "accounts/phone_password_done.html", {"phone": phone, "password": password}
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "accounts/phone_password.html", {"phone": phone, "form": form})


@customer_required
@require_http_methods(["GET", "POST"])
def phone_cap(request: HttpRequest, e164: str) -> HttpResponse:
    account = own_account(request.user)
    phone = _own_phone(account, e164)
    ceiling = cap_ceiling(account=account)
    form = PhoneCapForm(request.POST or None, initial={"cap": phone.monthly_cap or ""})
    if request.method == "POST" and form.is_valid():
        try:
            phone_cap_set(
                actor=actor_for(request), account=account, e164=e164, cap=form.cleaned_data["cap"]
            )
        except PhoneRefused as exc:
            form.add_error(exc.field if exc.field == "cap" else None, exc.message)
        else:
            messages.success(
                request, _("The monthly cap of %(phone)s was saved.") % {"phone": e164}
            )
            return redirect("customer:phones")
    return render(
        request, "accounts/phone_cap.html", {"phone": phone, "form": form, "ceiling": ceiling}
    )
