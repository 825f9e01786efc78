"""Online top-ups: the customer's pages under /my/topup/ and the gateway's notification URL."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scoping import customer_required, own_account
from accounts.services.audit import actor_for
from telephony.errors import Refused
from telephony.net import client_ip

from .models import LedgerEntry, OnlinePayment
from .online_forms import OnlineTopupForm
from .services import online, online_events, online_sandbox
from .services.gateways import gateway

log = logging.getLogger(__name__)

# The return page reloads itself this often while the notification is awaited.
CONFIRM_REFRESH_SECONDS = 3


def _own_payment(request: HttpRequest, reference: uuid.UUID) -> OnlinePayment:
    """The caller's own payment (their account), or 404."""
    account = own_account(request.user)
    payment = (
        OnlinePayment.objects.select_related("server")
        .filter(reference=reference, server_id=account.server_id, account=account.account)
        .first()
    )
    if payment is None:
        raise Http404
    return payment


@customer_required
@require_http_methods(["GET", "POST"])
def topup(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    limits = online.online_limits()
    context = {"account": account, "limits": limits, "enabled": online.online_enabled()}
    if not context["enabled"]:
        context["off_text"] = settings.ONLINE_PAYMENTS_OFF_TEXT
        return render(request, "billing/topup.html", context)
    form = OnlineTopupForm(request.POST or None, presets=limits.presets)
    if request.method == "POST" and form.is_valid():
        try:
            payment = online.online_payment_start(
                actor=actor_for(request),
                account=account,
                amount=form.cleaned_data["value"],
                site_url=f"{request.scheme}://{request.get_host()}",
            )
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # The gateway's hosted page: no card data ever reaches the portal.
            response = HttpResponseRedirect(payment.checkout_url)
            response.status_code = 303  # See Other: the browser GETs the hosted page
            return response
    context["form"] = form
    return render(request, "billing/topup.html", context)


@customer_required
def topup_return(request: HttpRequest, reference: uuid.UUID) -> HttpResponse:
    """Where the gateway sends the customer back. It only reads: the notification credits."""
    payment = _own_payment(request, reference)
    entry = (
        LedgerEntry.objects.filter(online_payment=payment, kind=LedgerEntry.Kind.ONLINE)
        .order_by("-pk")
        .first()
    )
    cancelled = request.GET.get("cancelled") == "1" and payment.state == OnlinePayment.State.OPEN
    refresh = payment.confirming and not cancelled
    response = render(
        request,
        "billing/topup_return.html",
        {
            "payment": payment,
            "entry": entry,
            "cancelled": cancelled,
            "refresh_seconds": CONFIRM_REFRESH_SECONDS if refresh else None,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@customer_required
@require_http_methods(["GET", "POST"])
def topup_test_gateway(request: HttpRequest, reference: uuid.UUID) -> HttpResponse:
    """Development: the portal's stand-in for the gateway's hosted page (test provider only)."""
    provider = gateway()
    if provider is None or provider.name != "test":
        raise Http404
    payment = _own_payment(request, reference)
    if request.method == "POST":
        online_sandbox.sandbox_checkout_finish(
            payment_id=payment.pk,
            outcome=request.POST.get("outcome", ""),
            method=request.POST.get("method", "card"),
            remote_ip=client_ip(request),
        )
        suffix = "?cancelled=1" if request.POST.get("outcome") == "cancel" else ""
        return redirect(reverse("customer:topup_return", args=[reference]) + suffix)
    return render(
        request,
        "billing/topup_test_gateway.html",
        {"payment": payment, "methods": settings.ONLINE_PAYMENTS_METHODS},
    )


def _throttled(request: HttpRequest) -> bool:
    """Per client address and minute, counted atomically in the cache (Redis in production)."""
    key = f"online:webhook:{client_ip(request)}"
    if cache.add(key, 1, 60):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, 60)
        return False
    return count > settings.ONLINE_WEBHOOK_RATE


@csrf_exempt  # the gateway cannot send our CSRF token: the SDK verifies its signature instead
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    if _throttled(request):
        return HttpResponse("slow down", status=429, content_type="text/plain")
    try:
        received = online_events.notification_receive(
            provider=provider,
            body=request.body,
            signature=request.headers.get("Stripe-Signature"),
            remote_ip=client_ip(request),
        )
    except LookupError:
        raise Http404 from None
    return HttpResponse(
        received.notification.outcome, status=received.status, content_type="text/plain"
    )
