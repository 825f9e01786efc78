"""Using a one-time sign-in link: a page with a button (link previews and mail scanners
that open the link do not use it), then the sign-in."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from telephony.net import client_ip

from .services.access import LinkInvalid, sign_in_link_check, sign_in_link_use

_BACKEND = "django.contrib.auth.backends.ModelBackend"


@never_cache
@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            link = sign_in_link_check(token=token)
            return render(request, "accounts/signin_link.html", {"link": link})
        user = sign_in_link_use(token=token, ip=client_ip(request) or None)
    except LinkInvalid as exc:
        return render(request, "accounts/signin_link.html", {"error": exc.message}, status=410)
    logout(request)
    login(request, user, backend=_BACKEND)
    return redirect("home")
