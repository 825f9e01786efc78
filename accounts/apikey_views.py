"""The profile's API keys page: create (the key shown once), list, revoke. Resellers and
customers manage their own keys here; staff in admin or with ``manage.py api_key_create``."""

from __future__ import annotations

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from telephony.errors import Refused

from .models import ApiKey, Role
from .scoping import role_of
from .services.apikeys import api_key_create, api_key_revoke
from .services.audit import actor_for


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=64)
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=ApiKey.Scope.choices,
        initial=["read"],
        widget=forms.CheckboxSelectMultiple,
    )
    allowed_ips = forms.CharField(
        label=gettext_lazy("Allowed addresses"),
        required=False,
        help_text=gettext_lazy("CIDRs separated by commas or spaces; empty: anywhere."),
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _allowed(request: HttpRequest) -> None:
    if role_of(request.user) not in (Role.CUSTOMER, Role.RESELLER):
        raise Http404


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    form = ApiKeyForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_at = None
        if data["expires_on"]:
            expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time.max))
        try:
            created = api_key_create(
                actor=actor_for(request),
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                allowed_ips=data["allowed_ips"].replace(",", " ").split(),
                expires_at=expires_at,
            )
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = ApiKeyForm()
    keys = ApiKey.objects.filter(user=request.user)
    return render(
        request, "accounts/api_keys.html", {"form": form, "keys": keys, "created": created}
    )


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _allowed(request)
    key = ApiKey.objects.filter(user=request.user, pk=pk).first()
    if key is None:
        raise Http404
    api_key_revoke(actor=actor_for(request), key=key)
    messages.success(request, _("The key %(name)s is revoked.") % {"name": key.name})
    return redirect("api_keys")
