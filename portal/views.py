from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the start page of their role."""
    profile = getattr(request.user, "profile", None)
    role = profile.role if profile else None
    if role == "reseller":
        return redirect("reseller:customers")
    if role == "customer":
        return redirect("customer:dashboard")
    if request.user.is_staff:
        return redirect("staff_home")
    return redirect("login")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
