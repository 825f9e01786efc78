"""One client per VosServer row per process, and the clients pages and the admin use."""

from __future__ import annotations

import threading
import time

from .client import VosClient
from .errors import VosRejected, VosUnavailable

_clients: dict[tuple, VosClient] = {}
_clients_lock = threading.Lock()


def client_for(server) -> VosClient:
    """The pooled client of a VosServer row; rebuilt when the row's settings change."""
    key = (server.pk, server.url, server.connect_timeout, server.read_timeout, server.time_zone)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for stale in [k for k in _clients if k[0] == server.pk]:
                _clients.pop(stale).session.close()
            client = VosClient(
                server.url,
                name=server.name,
                connect_timeout=server.connect_timeout,
                read_timeout=server.read_timeout,
                time_zone=server.time_zone,
            )
            _clients[key] = client
        return client


def vos_probe(server) -> tuple[bool, str]:
    """Is the server's interface reachable and speaking VOS? (admin's "Test connection").

    Asks GetCustomer for an account that cannot exist: any well-formed answer, -10007
    included, proves the address, the allow-list and the protocol.
    """
    from django.utils.translation import gettext as _

    client = client_for(server).with_timeouts(server.connect_timeout, server.connect_timeout + 2)
    started = time.monotonic()
    try:
        client.call("GetCustomer", {"accounts": ["__portal_probe__"]}, retry=False)
    except VosRejected:
        pass
    except VosUnavailable as exc:
        return False, _("not reachable: %(reason)s") % {"reason": exc.message}
    elapsed = (time.monotonic() - started) * 1000
    return True, _("answers in %(ms).0f ms") % {"ms": elapsed}


def request_deadline(seconds: float | None = None) -> float:
    """The time.monotonic() instant a request's VOS calls must end by: ``seconds`` from now,
    by default the write budget (``VOS_WRITE_BUDGET_SECONDS``)."""
    from django.conf import settings

    return time.monotonic() + (settings.VOS_WRITE_BUDGET_SECONDS if seconds is None else seconds)


def deadline_client_for(server, deadline: float | None = None) -> VosClient:
    """The server's client with one total budget: every call it makes (any number) ends by
    ``deadline`` (default: ``request_deadline()``), none is retried, and once too little time
    is left nothing more is sent (VosUnavailable). For requests that write to VOS."""
    return client_for(server).with_deadline(request_deadline() if deadline is None else deadline)


def page_client_for(server) -> VosClient:
    """For reads inside a page request: short timeouts, no retries (pages never wait)."""
    from django.conf import settings

    budget = settings.VOS_PAGE_TIMEOUT
    return client_for(server).with_timeouts(min(budget, server.connect_timeout), budget)
