"""The reseller's side of a customer's phones: add and remove numbers (with confirmation),
and the ceiling of the monthly caps the customer may set."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.phone_forms import CeilingForm
from accounts.scoping import reseller_customer, reseller_required
from accounts.services.audit import actor_for
from accounts.services.phones import (
    PhoneRefused,
    cap_ceiling,
    phone_add,
    phone_remove,
    phones_view,
    spending_ceiling_set,
)


class PhoneAddForm(forms.Form):
    e164 = forms.CharField(
        label=gettext_lazy("New phone number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=gettext_lazy("With the country code, digits only, e.g. 8613800001234."),
    )

    def clean_e164(self) -> str:
        value = re.sub(r"[\s\-()+]", "", self.cleaned_data.get("e164") or "")
        if not re.fullmatch(r"[0-9]{5,32}", value):
            raise forms.ValidationError(_("Enter 5 to 32 digits, with the country code."))
        return value


@never_cache
@reseller_required
@require_http_methods(["GET", "POST"])
def customer_phones(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    form = PhoneAddForm(request.POST or None)
    context = {"customer": customer, "form": form}
    if request.method == "POST" and form.is_valid():
        if "confirm" not in request.POST:
            return render(request, "reseller/phone_add_confirm.html", context)
        try:
            password = phone_add(
                actor=actor_for(request), account=customer, e164=form.cleaned_data["e164"]
            )
        except PhoneRefused as exc:
            form.add_error("e164" if exc.field == "e164" else None, exc.message)
        else:
            response = render(
                request,
                "reseller/phone_added.html",
                {"customer": customer, "e164": form.cleaned_data["e164"], "password": password},
            )
            response["Cache-Control"] = "no-store"
            return response
    context["view"] = phones_view(account=customer)
    context["ceiling"] = cap_ceiling(account=customer)
    return render(request, "reseller/customer_phones.html", context)


@reseller_required
@require_http_methods(["GET", "POST"])
def customer_phone_remove(request: HttpRequest, account: str, e164: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    error = ""
    if request.method == "POST":
        try:
            phone_remove(actor=actor_for(request), account=customer, e164=e164)
        except PhoneRefused as exc:
            error = exc.message
        else:
            messages.success(request, _("%(phone)s was removed.") % {"phone": e164})
            return redirect("reseller:customer_phones", account=customer.account)
    return render(
        request,
        "reseller/phone_remove.html",
        {"customer": customer, "e164": e164, "error": error},
    )


@reseller_required
@require_http_methods(["GET", "POST"])
def customer_cap_ceiling(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    form = CeilingForm(request.POST or None, initial={"cap": cap_ceiling(account=customer)})
    if request.method == "POST" and form.is_valid():
        try:
            spending_ceiling_set(
                actor=actor_for(request), account=customer, ceiling=form.cleaned_data["cap"]
            )
        except PhoneRefused as exc:
            form.add_error("cap", exc.message)
        else:
            messages.success(request, _("The ceiling was saved."))
            return redirect("reseller:customer_phones", account=customer.account)
    return render(request, "reseller/cap_ceiling.html", {"customer": customer, "form": form})
