"""The reseller area: customers, top-ups and deductions, account actions.

Every account is found through accounts.scoping (anything else is a 404); money moves only
through the services of billing and accounts.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.scoping import reseller_agent, reseller_customer, reseller_required
from accounts.services import audit
from accounts.services import customers as customer_actions
from billing.services import ledger, transfers
from billing.services import topups as topup_service
from telephony.models import Cdr
from telephony.services.mirror import account_refresh
from telephony.vos import VosError, VosRejected

from .forms import CustomerCreateForm, LimitForm, TopupForm
from .models import LedgerEntry, PayRecord
from .reseller_selectors import FILTERS, SORTS, reseller_customer_rows, reseller_ledger

PAGE_SIZE = 50


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@reseller_required
def customers(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:64]
    sort = request.GET.get("sort", "account")
    sort = sort if sort in SORTS else "account"
    show = request.GET.get("show", "")
    show = show if show in FILTERS else ""
    rows = reseller_customer_rows(user=request.user, search=search, sort=sort, show=show)
    return render(
        request,
        "reseller/customers.html",
        {
            "page": _page(request, rows),
            "search": search,
            "sort": sort,
            "show": show,
            "query": _query_without_page(request),
            "agent": reseller_agent(request.user),
        },
    )


@reseller_required
def customer_detail(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    refresh = account_refresh(vos_account=customer)
    customer = refresh.account
    calls = Cdr.objects.filter(server_id=customer.server_id, account=customer.account).order_by(
        "-start"
    )[:20]
    payments = PayRecord.objects.filter(
        server_id=customer.server_id, account=customer.account
    ).order_by("-paid_at")[:20]
    movements = LedgerEntry.objects.filter(
        server_id=customer.server_id, account=customer.account
    ).order_by("-created_at", "-pk")[:10]
    context = {
        "customer": customer,
        "stale": refresh.stale,
        "calls": calls,
        "payments": payments,
        "movements": movements,
    }
    if refresh.stale:
        context["vos_notice"] = _("Figures are as of %(when)s.") % {
            "when": customer.figures_as_of or _("the last sync")
        }
    return render(request, "reseller/customer_detail.html", context)


@reseller_required
@require_http_methods(["GET", "POST"])
def topup(request: HttpRequest) -> HttpResponse:
    """Form -> confirmation -> receipt. The hidden key makes every resubmit the same row."""
    if request.method == "GET":
        form = TopupForm(
            user=request.user,
            initial={
                "account": request.GET.get("account", "")[:64],
                "direction": "deduct" if request.GET.get("deduct") else "topup",
                "key": ledger.new_idempotency_key(),
            },
        )
        return _topup_form(request, form)
    form = TopupForm(request.POST, user=request.user)
    # A resubmit of a form that was already confirmed: show what happened, send nothing.
    key = request.POST.get("key", "")
    try:
        done = ledger.ledger_entry_for_key(idempotency_key=key, user=request.user)
    except ledger.LedgerError:
        raise Http404 from None
    if done is not None:
        messages.info(request, _("This form was already submitted; here is its receipt."))
        return redirect("reseller:receipt", pk=done.pk)
    if "edit" in request.POST or not form.is_valid():
        return _topup_form(request, form)
    agent = reseller_agent(request.user)
    movement = topup_service.TopupRequest(
        customer=form.customer,
        amount=form.cleaned_data["amount"],
        deduct=form.deduct,
        memo=form.cleaned_data["memo"],
        idempotency_key=form.cleaned_data["key"],
        allow_negative=form.negative_allowed,
    )
    try:
        if "confirm" not in request.POST:
            preview = topup_service.topup_preview(
                profile=request.user.profile, agent=agent, movement=movement
            )
            return render(
                request,
                "reseller/topup_confirm.html",
                {"form": form, "customer": form.customer, "preview": preview},
            )
        entry = topup_service.topup_submit(
            actor=audit.actor_for(request), agent=agent, movement=movement
        )
    except ledger.LedgerError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _topup_form(request, form)
    return redirect("reseller:receipt", pk=entry.pk)


def _topup_form(request: HttpRequest, form: TopupForm) -> HttpResponse:
    account = form.data.get("account") if form.is_bound else form.initial.get("account")
    customer = None
    if account:
        customer = reseller_customer_rows(user=request.user).filter(account=account).first()
    return render(request, "reseller/topup_form.html", {"form": form, "customer": customer})


def _own_entry(request: HttpRequest, pk: int) -> LedgerEntry:
    agent = reseller_agent(request.user)
    entry = reseller_ledger(agent=agent).select_related("server").filter(pk=pk).first()
    if entry is None:
        raise Http404
    return entry


@reseller_required
@require_http_methods(["GET", "POST"])
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _own_entry(request, pk)
    if request.method == "POST":
        # "Check again" on a movement still being confirmed: look in VOS pay history now,
        # within the same budget as the top-up itself.
        transfers.transfer_advance(
            entry=entry, deadline=time.monotonic() + settings.TOPUP_WAIT_SECONDS
        )
        return redirect("reseller:receipt", pk=entry.pk)
    first, second, compensations = transfers.transfer_rows(entry)
    legs = [row for row in (first, second, *compensations) if row is not None and row != entry]
    customer = reseller_customer_rows(user=request.user).filter(account=entry.account).first()
    return render(
        request,
        "billing/receipt.html",
        {"entry": entry, "legs": legs, "customer": customer, "reseller_area": True},
    )


@reseller_required
def topups(request: HttpRequest) -> HttpResponse:
    agent = reseller_agent(request.user)
    rows = reseller_ledger(agent=agent)
    state = request.GET.get("state", "")
    if state in LedgerEntry.State.values:
        rows = rows.filter(state=state)
    search = request.GET.get("q", "").strip()[:64]
    if search:
        rows = rows.filter(account__icontains=search)
    return render(
        request,
        "reseller/topups.html",
        {
            "page": _page(request, rows),
            "state": state,
            "states": LedgerEntry.State.choices,
            "search": search,
            "query": _query_without_page(request),
            "day_total": topup_service.reseller_day_total(agent=agent),
            "profile": request.user.profile,
        },
    )


@reseller_required
@require_http_methods(["GET", "POST"])
def customer_lock(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    lock = not customer.locked
    error = ""
    if request.method == "POST":
        lock = request.POST.get("lock") == "1"
        try:
            customer_actions.customer_lock_set(
                actor=audit.actor_for(request), customer=customer, locked=lock
            )
        except VosRejected as exc:
            error = exc.message
        except VosError:
            messages.warning(
                request, _("The switch is not answering; nothing was changed. Try again soon.")
            )
        else:
            messages.success(
                request,
                _("Account %(account)s is locked.") % {"account": account}
                if lock
                else _("Account %(account)s is unlocked.") % {"account": account},
            )
            return redirect("reseller:customer_detail", account=account)
    return render(
        request, "reseller/customer_lock.html", {"customer": customer, "lock": lock, "error": error}
    )


@reseller_required
@require_http_methods(["GET", "POST"])
def customer_limit(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    if request.method == "GET":
        form = LimitForm(initial={"limit_money": customer.limit_money})
        return render(request, "reseller/customer_limit.html", {"customer": customer, "form": form})
    form = LimitForm(request.POST)
    if "edit" in request.POST or not form.is_valid():
        return render(request, "reseller/customer_limit.html", {"customer": customer, "form": form})
    if "confirm" not in request.POST:
        return render(
            request,
            "reseller/customer_limit.html",
            {"customer": customer, "form": form, "confirming": True},
        )
    try:
        customer_actions.customer_limit_set(
            actor=audit.actor_for(request),
            customer=customer,
            limit_money=form.cleaned_data["limit_money"],
        )
    except VosRejected as exc:
        form.add_error("limit_money", exc.message)
    except VosError:
        messages.warning(
            request, _("The switch is not answering; nothing was changed. Try again soon.")
        )
    else:
        messages.success(request, _("The overdraft limit is changed."))
        return redirect("reseller:customer_detail", account=account)
    return render(request, "reseller/customer_limit.html", {"customer": customer, "form": form})


@reseller_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    agent = reseller_agent(request.user)
    form = CustomerCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = customer_actions.customer_create(
                actor=audit.actor_for(request),
                agent=agent,
                account=data["account"],
                name=data["name"],
                limit_money=data["limit_money"],
                e164=data["e164"],
                web_password=data["web_password"],
                email=data["email"],
                base_url=request.build_absolute_uri("/"),
                valid_until=data["valid_until"],
            )
        except VosRejected as exc:
            form.add_error("account", exc.message)
        except VosError:
            messages.warning(
                request, _("The switch is not answering; the account was not created.")
            )
        else:
            messages.success(
                request, _("Account %(account)s is created.") % {"account": data["account"]}
            )
            if created.phone_error:
                messages.error(
                    request,
                    _("The phone was not created: %(error)s") % {"error": created.phone_error},
                )
            if created.invited:
                messages.info(
                    request,
                    _("An invitation is on its way to %(email)s.") % {"email": data["email"]},
                )
            elif created.invitation_error:
                messages.warning(
                    request,
                    _("The invitation was not sent: %(error)s")
                    % {"error": created.invitation_error},
                )
            return redirect(reverse("reseller:customer_detail", args=[data["account"]]))
    return render(request, "reseller/customer_create.html", {"form": form, "agent": agent})
