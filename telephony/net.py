"""The client address of a request: one rule for throttles, audit and the push allow-list."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address for throttles, audit and the push allow-list.

    X-Forwarded-For is believed only behind TRUSTED_PROXY_COUNT proxies, and then only the
    hop the outermost trusted proxy saw; with no trusted proxy it is ignored (anyone can send
    it). django-axes calls this too (AXES_CLIENT_IP_CALLABLE).
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")
