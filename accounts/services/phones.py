"""A customer's phones (VOS CreatePhone / DeletePhone), as a reseller manages them."""

from __future__ import annotations

from django.utils.translation import gettext as _

from telephony.errors import Refused
from telephony.models import Phone, VosAccount
from telephony.vos import VosError, VosNotFound, VosRejected, client_for, page_client_for

from .audit import Actor, audit_log


def customer_phones(*, vos_account: VosAccount) -> list[str]:
    """The account's numbers: asked of VOS (page timeout) and mirrored; the mirror's on error."""
    try:
        infos = page_client_for(vos_account.server).get_phones(accounts=[vos_account.account])
    except VosError:
        infos = None
    if infos is not None:
        numbers = {info.e164 for info in infos if info.account == vos_account.account}
        for e164 in numbers:
            Phone.objects.update_or_create(
                server_id=vos_account.server_id,
                e164=e164,
                defaults={"account": vos_account.account},
            )
        Phone.objects.filter(server_id=vos_account.server_id, account=vos_account.account).exclude(
            e164__in=numbers
        ).delete()
        return sorted(numbers)
    return sorted(
        Phone.objects.filter(server_id=vos_account.server_id, account=vos_account.account)
        .values_list("e164", flat=True)
        .distinct()
    )


def _audit(*, actor: Actor, action: str, vos_account: VosAccount, outcome: str, **detail) -> None:
    audit_log(
        actor=actor,
        action=action,
        outcome=outcome,
        server=vos_account.server,
        account=vos_account.account,
        **detail,
    )


def customer_phone_add(
    *, actor: Actor, vos_account: VosAccount, e164: str, password: str = ""
) -> Phone:
    """CreatePhone under the account and mirror it. VosRejected/VosUnavailable propagate."""
    e164 = e164.strip()
    if not e164.isdigit() or len(e164) > 32:
        raise Refused(_("Enter the number as digits only."), field="e164")
    try:
        client_for(vos_account.server).create_phone(
            e164=e164, account=vos_account.account, customer_password=password
        )
    except VosError as exc:
        outcome = "rejected" if isinstance(exc, VosRejected) else "vos_unavailable"
        _audit(
            actor=actor,
            action="phone.create",
            vos_account=vos_account,
            outcome=outcome,
            e164=e164,
            error=exc.message,
        )
        raise
    _audit(actor=actor, action="phone.create", vos_account=vos_account, outcome="ok", e164=e164)
    phone, _created = Phone.objects.update_or_create(
        server_id=vos_account.server_id, e164=e164, defaults={"account": vos_account.account}
    )
    return phone


def customer_phone_remove(*, actor: Actor, vos_account: VosAccount, e164: str) -> None:
    """DeletePhone for one of the account's own numbers; Refused for another's."""
    client = client_for(vos_account.server)
    owners = {info.account for info in client.get_phones(e164s=[e164])}
    if owners != {vos_account.account}:
        raise Refused(_("This number is not one of this account's phones."), field="e164")
    try:
        client.delete_phone(e164=e164)
    except VosNotFound:
        pass  # already gone on the switch: the mirror follows
    except VosError as exc:
        outcome = "rejected" if isinstance(exc, VosRejected) else "vos_unavailable"
        _audit(
            actor=actor,
            action="phone.delete",
            vos_account=vos_account,
            outcome=outcome,
            e164=e164,
            error=exc.message,
        )
        raise
    _audit(actor=actor, action="phone.delete", vos_account=vos_account, outcome="ok", e164=e164)
    Phone.objects.filter(server_id=vos_account.server_id, e164=e164).delete()
