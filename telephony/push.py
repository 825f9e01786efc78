"""The VOS push receiver: VOS POSTs events to /vos-push/<VosServer.push_secret>/<Interface>,
or to /vos-push/<Interface> with the secret in the ``X-VOS-Push-Secret`` header (which, unlike
the path, no access log records).

Only CustomerMoneyChange and PhoneOnline change anything; CallStateReport and
AlarmCurrentReport are acknowledged and ignored. A wrong secret is a 404, an address outside
the server's allow-list a 403; a bad body gets a non-zero retCode (never a 500). Pushes are
hints: the balance job keeps polling, and a push never overwrites a newer reading.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import VosAccount, VosServer
from .net import client_ip
from .services.mirror import balance_apply, phone_online_apply
from .vos import MalformedRecord, VosMalformed, decode_object, from_millis, to_money, to_str

log = logging.getLogger(__name__)

INPUT_ERROR = (-10124, "Input parameter error")
NOT_FOUND = (-10007, "Not found, operation failed.")
UNSUPPORTED = (-1, "Unsupported interface")


class BadPush(Exception):
    """The push body is not what the interface promises."""


def _answer(error: tuple[int, str] | None = None) -> JsonResponse:
    if error is None:
        return JsonResponse({"retCode": 0})
    return JsonResponse({"retCode": error[0], "exception": error[1]})


def _server_for(secret: str) -> VosServer | None:
    # Compared in constant time; there are only a handful of servers.
    if not secret:
        return None
    for server in VosServer.objects.filter(enabled=True):
        if server.push_secret and hmac.compare_digest(server.push_secret, secret):
            return server
    return None


def allowed_networks(server: VosServer) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``push_allowed_ips``, or when it is empty the address(es) of the server's own host."""
    entries = [e.strip() for e in server.push_allowed_ips.split(",") if e.strip()]
    if not entries:
        host = urlsplit(server.url).hostname or ""
        try:
            entries = sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
        except (OSError, UnicodeError):
            log.warning("push: cannot resolve %r, the host of VOS server %s", host, server.name)
            return []
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.warning("push: bad allowed address %r on VOS server %s", entry, server.name)
    return networks


def ip_allowed(server: VosServer, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return any(ip in network for network in allowed_networks(server))


def _money_change(server: VosServer, body: dict[str, Any], received_at: datetime):
    account = to_str(body.get("account"), field_name="account").strip()
    if not account or body.get("money") in (None, ""):
        raise BadPush("account and money are required")
    money = to_money(body["money"], interface="CustomerMoneyChange")
    if not balance_apply(server=server, account=account, money=money, read_at=received_at):
        if not VosAccount.objects.filter(server=server, account=account).exists():
            log.info("push: CustomerMoneyChange for unknown account %s on %s", account, server.name)
            return NOT_FOUND
        log.info("push: balance of %s on %s already newer; ignored", account, server.name)
    return None


def _phone_online(server: VosServer, body: dict[str, Any], received_at: datetime):
    e164 = to_str(body.get("e164"), field_name="e164").strip()
    online = body.get("online")
    if isinstance(online, str) and online.lower() in ("true", "false"):
        online = online.lower() == "true"
    if not e164 or len(e164) > 64 or not isinstance(online, bool):
        raise BadPush("e164 and online are required")
    event_at = from_millis(body.get("eventTime"), interface="PhoneOnline") or received_at
    phone_online_apply(
        server=server,
        e164=e164,
        online=online,
        event_at=event_at,
        remote_ip=to_str(body.get("remoteIp"), field_name="remoteIp", cut=True),
    )
    return None


def _ignored(server: VosServer, body: dict[str, Any], received_at: datetime):
    return None


HANDLERS: dict[str, Callable[[VosServer, dict[str, Any], datetime], Any]] = {
    "CustomerMoneyChange": _money_change,
    "PhoneOnline": _phone_online,
    "CallStateReport": _ignored,
    "AlarmCurrentReport": _ignored,
}


SECRET_HEADER = "X-VOS-Push-Secret"


@csrf_exempt
@require_POST
def receive_with_header(request: HttpRequest, interface: str) -> HttpResponse:
    """The same receiver, the secret read from the ``X-VOS-Push-Secret`` header."""
    return _receive(request, request.headers.get(SECRET_HEADER, ""), interface)


@csrf_exempt
@require_POST
def receive(request: HttpRequest, secret: str, interface: str) -> HttpResponse:
    return _receive(request, secret, interface)


def _receive(request: HttpRequest, secret: str, interface: str) -> HttpResponse:
    received_at = timezone.now()
    server = _server_for(secret)
    if server is None:
        log.warning("push: unknown secret from %s", client_ip(request))
        return HttpResponse(status=404)
    address = client_ip(request)
    if not ip_allowed(server, address):
        log.warning(
            "push: %s from %s refused (not an allowed address of %s)",
            interface,
            address,
            server.name,
        )
        return HttpResponse(status=403)
    handler = HANDLERS.get(interface)
    if handler is None:
        log.warning("push: unsupported interface %r from %s", interface, server.name)
        return _answer(UNSUPPORTED)
    # VOS sends JSON as text/html: read the raw body, whatever the content type says.
    # The same decoding as the client's answers (telephony.vos.wire): an object, no NaN, not
    # nested deeper than a few levels; every garbled value is a VosMalformed, answered -10124.
    try:
        body = decode_object(request.body, interface, error=MalformedRecord)
        error = handler(server, body, received_at)
    except (VosMalformed, BadPush) as exc:
        log.warning(
            "push: bad %s from %s: %s (%r)", interface, server.name, exc, request.body[:200]
        )
        return _answer(INPUT_ERROR)
    log.info("push: %s from %s", interface, server.name)
    return _answer(error)
