"""Webhooks: reseller endpoints, signed deliveries (Standard Webhooks), retries, the log.

An event is one WebhookDelivery row per subscribed endpoint, written in the transaction of
what caused it; a Celery task (queued on commit) sends it. Sending claims the row with a
conditional UPDATE, so two workers never send one attempt twice. Failures are retried on
BACKOFF for RETRY_FOR; an endpoint that has failed for DISABLE_AFTER is disabled and its
owner e-mailed. URLs are checked for SSRF when saved and again, resolved, before each send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile, Role
from accounts.services.audit import Actor, audit_log
from telephony.errors import Refused
from telephony.models import VosAccount

from ..models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

EVENTS = tuple(WebhookEndpoint.Event.values)
# Standard Webhooks' schedule, trimmed to end within a day of the event.
BACKOFF = (5, 300, 1800, 7200, 18000, 36000, 36000)
RETRY_FOR = timedelta(hours=24)
DISABLE_AFTER = timedelta(hours=24)
SEND_TIMEOUT = (3.0, 10.0)
CLAIM_FOR = timedelta(seconds=60)
MAX_ENDPOINTS = 10


class WebhookUrlRefused(Refused):
    """A URL that is not https (in production) or resolves to a non-public address."""


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False))
    return ip.is_global and not ip.is_multicast


def url_check(url: str) -> str:
    """``url`` if it may receive webhooks; WebhookUrlRefused otherwise (resolves the host)."""
    parts = urlsplit(url.strip())
    allow_http = bool(getattr(settings, "WEBHOOK_ALLOW_LOOPBACK", False)) or settings.DEBUG
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise WebhookUrlRefused(_("The URL must start with https://."), field="url")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookUrlRefused(_("Enter a URL with a host name and no password."), field="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise WebhookUrlRefused(_("The host name does not resolve."), field="url") from None
    addresses = {info[4][0] for info in infos}
    if not addresses or not all(_address_allowed(a.split("%")[0]) for a in addresses):
        raise WebhookUrlRefused(
            _("The URL must reach a public address (not loopback, private or link-local)."),
            field="url",
        )
    return parts.geturl()


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def endpoint_create(
    *, actor: Actor, owner, url: str, events: Iterable[str], description: str = ""
) -> WebhookEndpoint:
    events = sorted(set(events))
    if not events or any(e not in EVENTS for e in events):
        raise Refused(
            _("Choose events among: %(events)s.") % {"events": ", ".join(EVENTS)}, field="events"
        )
    if WebhookEndpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS:
        raise Refused(_("At most %(n)d endpoints.") % {"n": MAX_ENDPOINTS})
    endpoint = WebhookEndpoint.objects.create(
        owner=owner,
        url=url_check(url),
        secret=_new_secret(),
        events=events,
        description=description.strip()[:100],
    )
    audit_log(actor=actor, action="webhook.create", outcome="ok", url=endpoint.url)
    return endpoint


def endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    audit_log(actor=actor, action="webhook.delete", outcome="ok", url=endpoint.url)
    endpoint.delete()


def endpoint_enable(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=True, disabled_at=None, failing_since=None
    )
    audit_log(actor=actor, action="webhook.enable", outcome="ok", url=endpoint.url)
    endpoint.refresh_from_db()
    return endpoint


# --- events -----------------------------------------------------------------------------------


def reseller_users(*, server_id: int, agent_account: str) -> list[int]:
    """Portal users of the reseller whose agent account this is."""
    return list(
        Profile.objects.filter(
            role=Role.RESELLER,
            vos_account__server_id=server_id,
            vos_account__account=agent_account,
        ).values_list("user_id", flat=True)
    )


def event_emit(*, owner_ids: Iterable[int], event: str, data: dict[str, Any]) -> list[int]:
    """One delivery per enabled endpoint of these owners subscribed to ``event``; queued on
    commit. Returns the deliveries' ids."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(owner_id__in=list(owner_ids), enabled=True)
        if event in e.events
    ]
    ids = []
    now = timezone.now()
    for endpoint in endpoints:
        message_id = f"msg_{uuid.uuid4().hex}"
        payload = {"type": event, "timestamp": now.isoformat(), "data": data}
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, message_id=message_id, event=event, payload=payload
        )
        ids.append(delivery.pk)
    if ids:
        from ..tasks import webhook_deliver  # tasks import this module: no cycle at load

        transaction.on_commit(lambda: [webhook_deliver.delay(i) for i in ids], robust=True)
    return ids


def account_event_emit(*, vos_account: VosAccount, event: str, data: dict[str, Any]) -> list[int]:
    owners = reseller_users(
        server_id=vos_account.server_id, agent_account=vos_account.agent_account
    )
    return event_emit(owner_ids=owners, event=event, data={"account": vos_account.account, **data})


def test_event_send(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A "webhook.test" delivery to one endpoint (whatever events it picked), sent now."""
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        message_id=f"msg_{uuid.uuid4().hex}",
        event="webhook.test",
        payload={"type": "webhook.test", "timestamp": timezone.now().isoformat(), "data": {}},
    )
    return delivery_send(delivery_id=delivery.pk) or delivery


# --- sending ----------------------------------------------------------------------------------


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        Q(claimed_until=None) | Q(claimed_until__lt=now),
        pk=delivery_id,
        state=WebhookDelivery.State.PENDING,
        next_attempt_at__lte=now,
    ).update(claimed_until=now + CLAIM_FOR)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint", "endpoint__owner").get(pk=delivery_id)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    stamp = int(timezone.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.PORTAL_NAME} webhooks",
        "Webhook-Id": delivery.message_id,
        "Webhook-Timestamp": str(stamp),
        "Webhook-Signature": signature(
            secret=endpoint.secret, message_id=delivery.message_id, timestamp=stamp, body=body
        ),
    }
    try:
        url_check(endpoint.url)  # again: DNS may have changed since the URL was saved
        response = requests.post(
            endpoint.url, data=body, headers=headers, timeout=SEND_TIMEOUT, allow_redirects=False
        )
    except Refused as exc:
        return None, exc.message[:255]
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}"[:255]
    return (
        response.status_code,
        "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}",
    )


def delivery_send(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one due delivery once; schedule its retry or give it up. None if not due/claimed."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    status, error = _post(delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    delivery.claimed_until = None
    if status is not None and 200 <= status < 300:
        delivery.state = WebhookDelivery.State.DELIVERED
        delivery.delivered_at = now
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)
    else:
        _failure(delivery, now)
    delivery.save()
    return delivery


def _failure(delivery: WebhookDelivery, now) -> None:
    index = delivery.attempts - 1
    retry_at = now + timedelta(seconds=BACKOFF[min(index, len(BACKOFF) - 1)])
    if index >= len(BACKOFF) or retry_at > delivery.created_at + RETRY_FOR:
        delivery.state = WebhookDelivery.State.FAILED
    else:
        delivery.next_attempt_at = retry_at
        from ..tasks import webhook_deliver

        countdown = max(1, int((retry_at - now).total_seconds()))
        transaction.on_commit(
            lambda: webhook_deliver.apply_async((delivery.pk,), countdown=countdown)
        )
    endpoint = delivery.endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(failing_since=now)
    endpoint.refresh_from_db()
    if endpoint.enabled and endpoint.failing_since and endpoint.failing_since < now - DISABLE_AFTER:
        _disable(endpoint, now)


def _disable(endpoint: WebhookEndpoint, now) -> None:
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_at=now
    )
    if disabled:
        from ..tasks import webhook_disabled_email

        endpoint_id = endpoint.pk
        transaction.on_commit(lambda: webhook_disabled_email.delay(endpoint_id), robust=True)


def deliveries_due(*, now=None) -> list[int]:
    """Pending deliveries whose time has come (the periodic sweep re-queues lost retries)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:500]
    )


def disabled_email_send(*, endpoint_id: int) -> bool:
    from django.core.mail import send_mail

    endpoint = WebhookEndpoint.objects.select_related("owner").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled or not endpoint.owner.email:
        return False
    subject = _("%(portal)s: webhook endpoint disabled") % {"portal": settings.PORTAL_NAME}
    body = _(
        "Deliveries to %(url)s have failed for a day, so the endpoint is disabled. "
        "Fix it, then enable it again on your webhooks page."
    ) % {"url": endpoint.url}
    send_mail(subject, body, None, [endpoint.owner.email])
    return True
