"""What a reseller does to their customers' VOS accounts besides money: lock, overdraft
limit, create (CreateCustomer + CreatePhone + a portal invitation). Every action is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from telephony.errors import Refused
from telephony.models import VosAccount
from telephony.selectors import day_start
from telephony.services.mirror import account_apply, account_refresh
from telephony.vos import (
    VosClient,
    VosError,
    VosNotFound,
    VosRejected,
    VosUnavailable,
    deadline_client_for,
)

from ..models import Role
from ..signals import customer_event
from .audit import Actor, audit_log
from .onboarding import invitation_send

log = logging.getLogger(__name__)


def _refresh_mirror(customer: VosAccount, client: VosClient) -> None:
    # After a change the switch is asked within what is left of the request's budget.
    account_refresh(vos_account=customer, client=client)


def customer_lock_set(*, actor: Actor, customer: VosAccount, locked: bool) -> VosAccount:
    """Lock or unlock one customer (ModifyCustomer lockType). VosError propagates."""
    action = "customer.lock" if locked else "customer.unlock"
    client = deadline_client_for(customer.server)
    try:
        client.modify_customer(account=customer.account, lock_type=1 if locked else 0)
    except VosError as exc:
        audit_log(
            actor=actor,
            action=action,
            outcome=_outcome(exc),
            server=customer.server,
            account=customer.account,
            error=exc.message,
        )
        raise
    audit_log(
        actor=actor, action=action, outcome="ok", server=customer.server, account=customer.account
    )
    VosAccount.objects.filter(pk=customer.pk).update(locked=locked)
    _refresh_mirror(customer, client)
    customer.refresh_from_db()
    customer_event.send(
        sender=VosAccount,
        event="customer.locked" if locked else "customer.unlocked",
        vos_account=customer,
        data={"locked": locked},
    )
    return customer


def customer_limit_set(*, actor: Actor, customer: VosAccount, limit_money: Decimal) -> VosAccount:
    """Change one customer's overdraft limit (ModifyCustomer limitMoney)."""
    previous = customer.limit_money
    client = deadline_client_for(customer.server)
    try:
        client.modify_customer(account=customer.account, limit_money=limit_money)
    except VosError as exc:
        audit_log(
            actor=actor,
            action="customer.limit",
            outcome=_outcome(exc),
            server=customer.server,
            account=customer.account,
            limit_money=limit_money,
            error=exc.message,
        )
        raise
    audit_log(
        actor=actor,
        action="customer.limit",
        outcome="ok",
        server=customer.server,
        account=customer.account,
        limit_money=limit_money,
        previous=previous,
    )
    VosAccount.objects.filter(pk=customer.pk).update(limit_money=limit_money)
    _refresh_mirror(customer, client)
    customer.refresh_from_db()
    return customer


def _outcome(exc: VosError) -> str:
    return "rejected" if isinstance(exc, VosRejected) else "vos_unavailable"


@dataclass
class CustomerCreated:
    account: VosAccount
    phone_error: str = ""
    invitation_error: str = ""
    invited: bool = False


def customer_create(
    *,
    actor: Actor,
    agent: VosAccount,
    account: str,
    name: str,
    limit_money: Decimal,
    e164: str,
    web_password: str,
    email: str = "",
    base_url: str = "",
    valid_until: date | None = None,
) -> CustomerCreated:
    """A VOS account under the reseller, its phone, and a portal invitation.

    ``valid_until`` is the last day the account may call, on the switch's clock (VOS is sent
    that day's last second); None leaves it to the switch's default.

    CreateCustomer errors propagate (nothing was created). A phone or invitation that fails
    after the account exists is reported on the result, not raised: the account stays.
    """
    server = agent.server
    # One budget for every call below (create, the lost-answer check, read, phone).
    client = deadline_client_for(server)
    valid_time = None
    if valid_until is not None:  # its last second, on the switch's clock
        valid_time = day_start(server, valid_until + timedelta(days=1)) - timedelta(seconds=1)
    _vos_customer_create(
        actor=actor,
        client=client,
        agent=agent,
        account=account,
        name=name,
        limit_money=limit_money,
        email=email,
        valid_time=valid_time,
    )
    audit_log(
        actor=actor,
        action="customer.create",
        outcome="ok",
        server=server,
        account=account,
        name=name,
        limit_money=limit_money,
        e164=e164,
    )
    read_at = timezone.now()
    try:
        fresh = client.get_customer(account)
        account_apply(server=server, customer=fresh, read_at=read_at)
    except VosNotFound:
        pass
    except VosError as exc:
        log.warning("reading new customer %s failed: %s", account, exc)
    vos_account, _created = VosAccount.objects.get_or_create(
        server=server,
        account=account,
        defaults={
            "name": (name or account)[:64],
            "agent_account": agent.account,
            "limit_money": limit_money,
        },
    )
    result = CustomerCreated(account=vos_account)
    customer_event.send(
        sender=VosAccount,
        event="customer.created",
        vos_account=vos_account,
        data={"name": vos_account.name},
    )
    if e164:
        result.phone_error = _phone_create(
            actor=actor, client=client, vos_account=vos_account, e164=e164, password=web_password
        )
    if email:
        result.invited, result.invitation_error = _invite(
            actor=actor, email=email, vos_account=vos_account, base_url=base_url
        )
    return result


def _vos_customer_create(
    *,
    actor: Actor,
    client: VosClient,
    agent: VosAccount,
    account: str,
    name: str,
    limit_money: Decimal,
    email: str,
    valid_time: datetime | None = None,
) -> None:
    """CreateCustomer; a lost answer is checked with GetCustomer. VosError if not created."""
    try:
        client.create_customer(
            account=account,
            name=name or account,
            agent_account=agent.account,
            limit_money=limit_money,
            email=email,
            valid_time=valid_time,
        )
    except VosError as exc:
        if isinstance(exc, VosUnavailable) and _exists_under(client, account, agent):
            return
        audit_log(
            actor=actor,
            action="customer.create",
            outcome=_outcome(exc),
            server=agent.server,
            account=account,
            error=exc.message,
        )
        raise


def _exists_under(client: VosClient, account: str, agent: VosAccount) -> bool:
    """Whether ``account`` exists under ``agent`` (asked after a lost CreateCustomer answer)."""
    try:
        existing = client.get_customer(account)
    except VosError:
        return False
    return existing.agent_account == agent.account


def _phone_create(
    *, actor: Actor, client: VosClient, vos_account: VosAccount, e164: str, password: str
) -> str:
    """CreatePhone for a new customer; returns VOS's error text, "" when created."""
    audit = {"actor": actor, "action": "phone.create", "server": vos_account.server}
    try:
        client.create_phone(e164=e164, account=vos_account.account, customer_password=password)
    except VosError as exc:
        audit_log(
            **audit,
            outcome=_outcome(exc),
            account=vos_account.account,
            e164=e164,
            error=exc.message,
        )
        return exc.message
    audit_log(**audit, outcome="ok", account=vos_account.account, e164=e164)
    return ""


def _invite(
    *, actor: Actor, email: str, vos_account: VosAccount, base_url: str = ""
) -> tuple[bool, str]:
    """Send a portal login invitation (onboarding.invitation_send)."""
    try:
        invitation_send(
            email=email,
            vos_account=vos_account,
            invited_by=actor.user,
            role=Role.CUSTOMER,
            base_url=base_url,
        )
    except Exception as exc:  # the account exists: report, don't undo it
        log.exception("invitation to %s failed", email)
        audit_log(
            actor=actor,
            action="invitation.send",
            outcome="error",
            server=vos_account.server,
            account=vos_account.account,
            email=email,
        )
        return False, str(exc)
    audit_log(
        actor=actor,
        action="invitation.send",
        outcome="ok",
        server=vos_account.server,
        account=vos_account.account,
        email=email,
    )
    return True, ""


def customer_invite(*, actor: Actor, customer: VosAccount, email: str, base_url: str = "") -> None:
    """Register the customer for a portal login: an e-mailed invitation to confirm."""
    invited, error = _invite(actor=actor, email=email, vos_account=customer, base_url=base_url)
    if not invited:
        raise Refused(error or "invitation failed", field="email")
