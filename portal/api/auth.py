"""Bearer API keys (accounts.services.apikeys), scopes and the caller's role."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.models import ApiKey, Role
from accounts.scoping import role_of
from accounts.services.apikeys import ApiKeyRefused, api_key_check
from accounts.services.audit import Actor
from telephony.net import client_ip

from .problems import ApiProblem


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer <key>``: a known, active key used from an allowed address."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        try:
            key = api_key_check(text=token, ip=client_ip(request))
        except ApiKeyRefused as exc:
            request.api_key_refusal = exc.message  # type: ignore[attr-defined]
            return None
        request.user = key.user
        return key


def api_key(request: HttpRequest) -> ApiKey:
    return request.auth  # type: ignore[attr-defined,return-value]


def actor(request: HttpRequest) -> Actor:
    """The key's user and the client's address (the same Actor a page would record)."""
    return Actor(user=api_key(request).user, ip=client_ip(request) or None)


def scope_required(request: HttpRequest, scope: str) -> None:
    if scope not in api_key(request).scopes:
        raise ApiProblem(403, f"This key lacks the {scope!r} scope.", kind="scope")


def role(request: HttpRequest) -> str | None:
    user = api_key(request).user
    if user.is_staff:
        return Role.STAFF
    return role_of(user)


def role_required(request: HttpRequest, *roles: str) -> str:
    current = role(request)
    if current not in roles:
        raise ApiProblem(
            403, "This endpoint is not for this key's kind of user.", kind="wrong-role"
        )
    return current
