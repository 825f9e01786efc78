"""API keys: created (shown once), checked on every API request, revoked (docs/API.md)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from telephony.errors import Refused

from ..models import ApiKey
from .audit import Actor, audit_log

KEY_PREFIX = "vpk_"
SCOPES = tuple(ApiKey.Scope.values)
# last_used_at/ip are written at most this often per key (a busy script is not a write a call).
TOUCH_EVERY = timedelta(seconds=30)


class ApiKeyRefused(Refused):
    """The key is unknown, revoked, expired or used from an address it does not allow."""


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    text: str  # shown once, never stored


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _networks(cidrs: Iterable[str]) -> list[str]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            raise Refused(
                _("%(cidr)s is not an address or a network (CIDR).") % {"cidr": cidr},
                field="allowed_ips",
            ) from None
    return networks


def api_key_create(
    *,
    actor: Actor,
    user,
    name: str,
    scopes: Iterable[str] = ("read",),
    allowed_ips: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> CreatedKey:
    """A new key for ``user``; the returned text is the only time the secret exists."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise Refused(_("Choose scopes among read, money and accounts."), field="scopes")
    name = name.strip()
    if not name:
        raise Refused(_("Give the key a name."), field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise Refused(_("The expiry must be in the future."), field="expires_at")
    prefix = secrets.token_hex(6)
    text = f"{KEY_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        user=user,
        name=name[:64],
        prefix=prefix,
        digest=_digest(text),
        scopes=scopes,
        allowed_ips=_networks(allowed_ips),
        expires_at=expires_at,
    )
    audit_log(actor=actor, action="apikey.create", outcome="ok", key=prefix, name=key.name)
    return CreatedKey(key=key, text=text)


def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    """Revoke ``key`` (idempotent: a revoked key stays revoked at its first time)."""
    ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now())
    key.refresh_from_db()
    audit_log(actor=actor, action="apikey.revoke", outcome="ok", key=key.prefix)
    return key


def _ip_allowed(key: ApiKey, ip: str) -> bool:
    if not key.allowed_ips:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr) for cidr in key.allowed_ips)


def api_key_check(*, text: str, ip: str) -> ApiKey:
    """The active key whose text is ``text``, used from ``ip``; ApiKeyRefused otherwise."""
    body = text.removeprefix(KEY_PREFIX)
    prefix, _dot, _secret = body.partition(".")
    key = (
        ApiKey.objects.select_related("user", "user__profile")
        .filter(prefix=prefix[:16], user__is_active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.digest, _digest(text)):
        raise ApiKeyRefused(_("Unknown API key."))
    if not key.active:
        raise ApiKeyRefused(_("This API key is revoked or expired."))
    if not _ip_allowed(key, ip):
        raise ApiKeyRefused(_("This API key may not be used from this address."))
    _touch(key, ip)
    return key


def _touch(key: ApiKey, ip: str) -> None:
    now = timezone.now()
    stale = Q(last_used_at=None) | Q(last_used_at__lt=now - TOUCH_EVERY) | ~Q(last_used_ip=ip)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now, last_used_ip=ip or None)
