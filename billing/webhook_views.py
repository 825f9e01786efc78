"""The reseller's webhooks page: endpoints, their delivery log, a test event (docs/API.md)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scoping import reseller_required
from accounts.services.audit import actor_for
from telephony.errors import Refused

from .models import WebhookEndpoint
from .services import webhooks

LOG_SIZE = 20


class EndpointForm(forms.Form):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=100, required=False)


def _own(request: HttpRequest, pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(owner=request.user, pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


@reseller_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhooks.endpoint_create(
                actor=actor_for(request),
                owner=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = EndpointForm()
    endpoints = [
        (endpoint, list(endpoint.deliveries.order_by("-created_at", "-id")[:LOG_SIZE]))
        for endpoint in WebhookEndpoint.objects.filter(owner=request.user)
    ]
    return render(
        request,
        "reseller/webhooks.html",
        {"form": form, "endpoints": endpoints, "created": created},
    )


@reseller_required
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = webhooks.test_event_send(endpoint=_own(request, pk))
    if delivery.state == delivery.State.DELIVERED:
        messages.success(request, _("The test event was delivered."))
    else:
        messages.warning(
            request,
            _("The test event was not delivered: %(error)s") % {"error": delivery.last_error},
        )
    return redirect("reseller:webhooks")


@reseller_required
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    webhooks.endpoint_enable(actor=actor_for(request), endpoint=_own(request, pk))
    messages.success(request, _("The endpoint is enabled."))
    return redirect("reseller:webhooks")


@reseller_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhooks.endpoint_delete(actor=actor_for(request), endpoint=_own(request, pk))
    messages.success(request, _("The endpoint is removed."))
    return redirect("reseller:webhooks")
