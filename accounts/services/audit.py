"""Who did what: the audit log of every money and account action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from telephony.models import VosServer
from telephony.net import client_ip

from ..models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who asked, and from where (every ledger row and audit row records both)."""

    user: Any = None
    ip: str | None = None


def actor_for(request: HttpRequest) -> Actor:
    """The signed-in user of ``request`` and their address (telephony.net.client_ip)."""
    return Actor(user=request.user, ip=client_ip(request) or None)


def audit_log(
    *,
    actor: Actor,
    action: str,
    outcome: str,
    server: VosServer | None = None,
    account: str = "",
    **detail: Any,
) -> AuditLog:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditLog.objects.create(
        user=user,
        ip=actor.ip,
        action=action,
        server=server,
        account=account,
        outcome=outcome,
        detail={key: _jsonable(value) for key, value in detail.items()},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | datetime | date):
        return str(value)
    return value


def audit_changes(
    *,
    actor: Actor,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    server: VosServer | None = None,
    account: str = "",
    **detail: Any,
) -> AuditLog | None:
    """One audit row listing each field whose value moved, as ``{field: [old, new]}``;
    nothing when no field did."""
    changes = {
        name: [_jsonable(before.get(name)), _jsonable(value)]
        for name, value in after.items()
        if before.get(name) != value
    }
    if not changes:
        return None
    return audit_log(
        actor=actor,
        action=action,
        outcome="ok",
        server=server,
        account=account,
        changes=changes,
        **detail,
    )
