"""A customer's phones: live view (GetPhone + GetPhoneOnline, bounded, mirror as fallback),
the SIP password (ModifyPhone; checked, audited, never stored), the monthly spending cap
within the ceiling their reseller or staff allow, and the calls in progress (GetCurrentCall,
cached per account). Docs: docs/SELFSERVICE.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from telephony.errors import Refused
from telephony.models import Phone, VosAccount
from telephony.vos import (
    CurrentCall,
    PhoneInfo,
    PhoneOnline,
    VosError,
    VosRejected,
    client_for,
    page_client_for,
)

from ..models import SpendingCeiling
from .audit import Actor, audit_log

SIP_PASSWORD_MIN = 10
SIP_PASSWORD_MAX = 32  # ModifyPhone's column
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_CLASSES = (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]")
CAP_MAX = Decimal("1000000")


class PhoneRefused(Refused):
    """A phone action refused; ``field`` names the form field to show it at."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class PhoneRow:
    e164: str
    display_number: str = ""
    lock_type: int = 0
    call_level: int | None = None
    monthly_cap: Decimal | None = None
    online: bool = False
    remote_ip: str = ""
    device: str = ""
    registered_since: datetime | None = None
    current_calls: int = 0


@dataclass
class PhonesView:
    phones: list[PhoneRow] = field(default_factory=list)
    live: bool = True  # False: the switch did not answer; the rows are the mirror's


def _live(account: VosAccount) -> list[PhoneRow]:
    client = page_client_for(account.server)
    infos = [
        p for p in client.get_phones(accounts=[account.account]) if p.account == account.account
    ]
    online = {o.e164: o for o in client.get_phones_online(e164s=[p.e164 for p in infos])}
    return [_row(info, online.get(info.e164)) for info in sorted(infos, key=lambda p: p.e164)]


def _row(info: PhoneInfo, online: PhoneOnline | None) -> PhoneRow:
    row = PhoneRow(
        e164=info.e164,
        display_number=info.display_number,
        lock_type=info.lock_type,
        call_level=info.call_level,
        monthly_cap=info.monthly_money_maximum,
    )
    if online is not None:
        row.online = True
        row.remote_ip = online.remote_ip
        row.device = online.device
        row.registered_since = online.register_time
        row.current_calls = online.current_calls
    return row


def phones_view(*, account: VosAccount) -> PhonesView:
    """The account's phones, read live within ``VOS_PAGE_TIMEOUT``, else from the mirror."""
    try:
        return PhonesView(phones=_live(account))
    except VosError:
        mirror = Phone.objects.filter(server_id=account.server_id, account=account.account)
        rows = [
            PhoneRow(e164=p.e164, online=p.online, remote_ip=p.remote_ip)
            for p in mirror.order_by("e164")
        ]
        return PhonesView(phones=rows, live=False)


def _owned(account: VosAccount, e164: str) -> PhoneInfo:
    """The phone, asked of the switch, if it belongs to ``account``; else PhoneRefused."""
    try:
        found = client_for(account.server).get_phones(e164s=[e164])
    except VosError as exc:
        raise PhoneRefused(_("The switch is not answering; nothing was changed.")) from exc
    for info in found:
        if info.e164 == e164 and info.account == account.account:
            return info
    raise PhoneRefused(_("This phone is not one of yours."), field="e164")


def sip_password_check(*, password: str, e164: str, account: str) -> None:
    """Strength rules for a SIP password; PhoneRefused (field ``password``) if weak."""
    if not SIP_PASSWORD_MIN <= len(password) <= SIP_PASSWORD_MAX:
        raise PhoneRefused(
            _("Use %(low)d to %(high)d characters.")
            % {"low": SIP_PASSWORD_MIN, "high": SIP_PASSWORD_MAX},
            field="password",
        )
    if not _PRINTABLE.match(password):
        raise PhoneRefused(
            _("Use letters, digits and symbols only (no spaces or accents)."), field="password"
        )
    if sum(1 for pattern in _CLASSES if re.search(pattern, password)) < 3:
        raise PhoneRefused(
            _("Mix at least three of: lower case, upper case, digits, symbols."),
            field="password",
        )
    lowered = password.lower()
    if any(part and part in lowered for part in (e164[-6:], account.lower())):
        raise PhoneRefused(
            _("The password must not contain the phone number or the account."),
            field="password",
        )
    if len(set(password)) < 5:
        raise PhoneRefused(_("Too many repeated characters."), field="password")


def sip_password_change(*, actor: Actor, account: VosAccount, e164: str, password: str) -> None:
    """Set a phone's SIP password (ModifyPhone). The password is never stored or logged."""
    sip_password_check(password=password, e164=e164, account=account.account)
    _owned(account, e164)
    _modify(actor, account, e164, "phone.sip_password", password=password)


def cap_ceiling(*, account: VosAccount) -> Decimal:
    row = SpendingCeiling.objects.filter(
        server_id=account.server_id, account=account.account
    ).first()
    return row.ceiling if row else settings.PHONE_CAP_DEFAULT_CEILING


def phone_cap_set(*, actor: Actor, account: VosAccount, e164: str, cap: Decimal) -> None:
    """Set a phone's monthly spending cap, at most the ceiling (a cap of 0 would mean none)."""
    ceiling = cap_ceiling(account=account)
    if cap <= 0:
        raise PhoneRefused(_("Enter an amount greater than zero."), field="cap")
    if cap > ceiling:
        raise PhoneRefused(
            _("The most you may set is %(ceiling)s.") % {"ceiling": ceiling}, field="cap"
        )
    _owned(account, e164)
    _modify(actor, account, e164, "phone.cap", monthly_money_maximum=cap, cap=cap)


def _modify(actor: Actor, account: VosAccount, e164: str, action: str, cap=None, **fields) -> None:
    try:
        client_for(account.server).modify_phone(e164=e164, **fields)
    except VosError as exc:
        outcome = "rejected" if isinstance(exc, VosRejected) else "vos_unavailable"
        audit_log(
            actor=actor,
            action=action,
            outcome=outcome,
            server=account.server,
            account=account.account,
            e164=e164,
            cap=cap,
            error=exc.message,
        )
        if isinstance(exc, VosRejected):
            raise PhoneRefused(exc.message) from exc
        raise PhoneRefused(_("The switch is not answering; nothing was changed.")) from exc
    audit_log(
        actor=actor,
        action=action,
        outcome="ok",
        server=account.server,
        account=account.account,
        e164=e164,
        cap=cap,
    )


def spending_ceiling_set(*, actor: Actor, account: VosAccount, ceiling: Decimal) -> None:
    """The reseller (or staff) sets the most a customer may cap a phone at."""
    if not Decimal("0") < ceiling <= CAP_MAX:
        raise PhoneRefused(_("Enter an amount greater than zero."), field="ceiling")
    SpendingCeiling.objects.update_or_create(
        server_id=account.server_id,
        account=account.account,
        defaults={"ceiling": ceiling, "set_by": actor.user if actor.user else None},
    )
    audit_log(
        actor=actor,
        action="phone.cap_ceiling",
        outcome="ok",
        server=account.server,
        account=account.account,
        ceiling=ceiling,
    )


# --- calls in progress ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallsNow:
    calls: tuple[CurrentCall, ...]
    read_at: datetime
    ok: bool = True  # False: the switch did not answer (nothing to show, a notice)


def _calls_key(account: VosAccount) -> str:
    return f"accounts:calls-now:{account.server_id}:{account.account}"


def current_calls(*, account: VosAccount, ask: bool = True) -> CallsNow:
    """The account's calls in progress, asked of the switch at most every
    ``CURRENT_CALLS_CACHE_SECONDS`` (≥ 30) per account, a failure included. With ``ask``
    False (the switch just failed another read of this page) only a cached answer is used."""
    key = _calls_key(account)
    cached = cache.get(key)
    if cached is not None:
        return cached
    if not ask:
        return CallsNow(calls=(), read_at=timezone.now(), ok=False)
    phones = list(
        Phone.objects.filter(server_id=account.server_id, account=account.account).values_list(
            "e164", flat=True
        )
    )
    try:
        client = page_client_for(account.server)
        if not phones:
            phones = [p.e164 for p in client.get_phones(accounts=[account.account])]
        result = CallsNow(
            calls=tuple(client.get_current_calls(caller_e164s=phones)), read_at=timezone.now()
        )
    except VosError:
        result = CallsNow(calls=(), read_at=timezone.now(), ok=False)
    cache.set(key, result, settings.CURRENT_CALLS_CACHE_SECONDS)
    return result


# --- the reseller's side: adding and removing a customer's numbers --------------------------


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


E164 = re.compile(r"^[0-9]{5,32}$")


def _generated_sip_password() -> str:
    """A strong SIP password for a new phone (shown once to the reseller, never stored)."""
    while True:
        candidate = "-".join(secrets.token_urlsafe(6).replace("_", "x") for _ in range(3))[:20]
        try:
            sip_password_check(password=candidate, e164="", account="\x00")
        except PhoneRefused:
            continue
        return candidate


def _phone_exists(client, e164: str) -> PhoneInfo | None:
    return next((p for p in client.get_phones(e164s=[e164]) if p.e164 == e164), None)


def phone_add(*, actor: Actor, account: VosAccount, e164: str, web_password: str = "") -> str:
    """CreatePhone on the customer's account; returns the new phone's SIP password.

    ``web_password`` is the number's web-query password (CreatePhone ``customerPassword``),
    with which the customer can activate a portal login. A lost answer is checked with
    GetPhone (CreatePhone is never sent twice).
    """
    if not E164.match(e164):
        raise PhoneRefused(_("Enter 5 to 32 digits, with the country code."), field="e164")
    client = client_for(account.server)
    password = _generated_sip_password()
    audit = {"actor": actor, "server": account.server, "account": account.account, "e164": e164}
    try:
        client.create_phone(
            e164=e164, account=account.account, password=password, customer_password=web_password
        )
    except VosRejected as exc:
        audit_log(action="phone.create", outcome="rejected", error=exc.message, **audit)
        raise PhoneRefused(exc.message, field="e164") from exc
    except VosError as exc:
        found = _checked_phone(client, e164)
        if found is None or found.account != account.account:
            audit_log(action="phone.create", outcome="vos_unavailable", error=exc.message, **audit)
            raise PhoneRefused(_("The switch is not answering; nothing was changed.")) from exc
    audit_log(action="phone.create", outcome="ok", **audit)
    Phone.objects.get_or_create(
        server_id=account.server_id, e164=e164, defaults={"account": account.account}
    )
    return password


def _checked_phone(client, e164: str) -> PhoneInfo | None:
    try:
        return _phone_exists(client, e164)
    except VosError:
        return None


def phone_remove(*, actor: Actor, account: VosAccount, e164: str) -> None:
    """DeletePhone of one of the customer's numbers (checked to be theirs first)."""
    _owned(account, e164)
    client = client_for(account.server)
    audit = {"actor": actor, "server": account.server, "account": account.account, "e164": e164}
    try:
        client.delete_phone(e164=e164)
    except VosRejected as exc:
        audit_log(action="phone.delete", outcome="rejected", error=exc.message, **audit)
        raise PhoneRefused(exc.message) from exc
    except VosError as exc:
        try:
            gone = _phone_exists(client, e164) is None
        except VosError:
            gone = False
        if not gone:
            audit_log(action="phone.delete", outcome="vos_unavailable", error=exc.message, **audit)
            raise PhoneRefused(_("The switch is not answering; nothing was changed.")) from exc
    audit_log(action="phone.delete", outcome="ok", **audit)
    Phone.objects.filter(server_id=account.server_id, e164=e164).delete()
