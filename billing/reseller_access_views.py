"""The reseller gets a customer back into the portal: a reset e-mail, a temporary password
(shown once, to be changed at the next sign-in) or a one-time sign-in link (shown once)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.scoping import reseller_customer, reseller_required
from accounts.services.access import (
    customer_logins,
    reset_email_queue,
    sign_in_link_create,
    temporary_password_set,
)
from accounts.services.audit import actor_for
from telephony.errors import Refused

ACTIONS = ("email", "temporary", "link")


@never_cache
@reseller_required
@require_http_methods(["GET", "POST"])
def customer_access(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    logins = customer_logins(account=customer)
    if request.method == "GET":
        return render(
            request, "reseller/customer_access.html", {"customer": customer, "logins": logins}
        )
    user = next((u for u in logins if str(u.pk) == request.POST.get("user")), None)
    action = request.POST.get("action")
    if user is None or action not in ACTIONS:
        raise Http404
    actor = actor_for(request)
    base_url = request.build_absolute_uri("/")
    context = {
        "customer": customer,
        "login": user,
        "link_minutes": settings.SIGNIN_LINK_MAX_AGE_SECONDS // 60,
    }
    try:
        if action == "email":
            reset_email_queue(actor=actor, user=user, base_url=base_url)
            messages.success(
                request,
                _("A password-reset e-mail is on its way to %(email)s.") % {"email": user.email},
            )
            return redirect("reseller:customer_access", account=customer.account)
        if action == "temporary":
            context["password"] = temporary_password_set(actor=actor, user=user)
        else:
            context["link"] = sign_in_link_create(actor=actor, user=user, base_url=base_url).url
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("reseller:customer_access", account=customer.account)
    response = render(request, "reseller/customer_access_done.html", context)
    response["Cache-Control"] = "no-store"
    return response
