"""Second factor: authenticator app (TOTP), recovery codes and passkeys (docs/ACCOUNTS.md).

The devices are django-otp's (``TOTPDevice``, ``StaticDevice``) and django-otp-webauthn's
(``WebAuthnCredential``); this module decides who needs one, enrols and removes them, checks
a typed code, and resets everything for staff. No crypto is done here: the libraries do it.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from telephony.errors import Refused

from .audit import Actor, audit_log
from .passkey_names import NAME_MAX_LENGTH, passkey_name_make

RECOVERY_DEVICE_NAME = "recovery"
TOTP_DEVICE_NAME = "authenticator"
_TOTP_CODE = re.compile(r"^\d{6}$")
_RECOVERY_CODE = re.compile(r"^[a-z0-9]{8,16}$")


def _too_many() -> str:
    return _("Too many wrong codes: wait a minute, then try again.")


class CodeRefused(Refused):
    """A typed code is empty, malformed, wrong, or the device is throttled."""


# --- who needs what ---------------------------------------------------------------------------


def role_of(user) -> str | None:
    """The portal role of ``user`` (staff without a Profile count as staff)."""
    profile = getattr(user, "profile", None)  # loaded once per request, cached on the user
    if profile is not None:
        return profile.role
    return "staff" if user.is_staff else None


def required_for(user) -> bool:
    """True when ``user``'s role must sign in with a second factor (MFA_REQUIRED_ROLES)."""
    if user.is_superuser or user.is_staff:
        return "staff" in settings.MFA_REQUIRED_ROLES
    return role_of(user) in settings.MFA_REQUIRED_ROLES


def enrolled(user) -> bool:
    """True when ``user`` has a confirmed authenticator or passkey (recovery codes alone
    are a spare, not a factor of their own). One query, remembered on the user object (one
    request) — the middleware and the admin's permission check both ask."""
    cached = getattr(user, "_mfa_enrolled", None)
    if cached is not None:
        return cached
    totp = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    passkey = WebAuthnCredential.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    found = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Q(Exists(totp)) | Q(Exists(passkey)))
        .exists()
    )
    user._mfa_enrolled = found
    return found


def _forget(user) -> None:
    """Drop the remembered answer of ``enrolled`` after a factor was added or removed."""
    try:
        del user._mfa_enrolled
    except AttributeError:
        pass


def satisfied(user) -> bool:
    """True when this signed-in session may go on: it passed its second factor, or the
    login has none and is not required to have one."""
    if getattr(user, "is_verified", None) and user.is_verified():
        return True
    return not enrolled(user) and not required_for(user)


@dataclass(frozen=True)
class Status:
    totp: bool
    recovery_left: int
    passkeys: list
    required: bool

    @property
    def enrolled(self) -> bool:
        return self.totp or bool(self.passkeys)


def status(*, user) -> Status:
    recovery = StaticDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    return Status(
        totp=TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists(),
        recovery_left=recovery.token_set.count() if recovery else 0,
        passkeys=list(passkeys(user=user)),
        required=required_for(user),
    )


def factor_any(*, user):
    """One of the user's confirmed factors (the app first, else their newest passkey), or
    None: what a verified session is bound to once the factor it passed with is gone."""
    return (
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
        or passkeys(user=user).first()
    )


def passkeys(*, user):
    """The user's own passkeys, newest first (views look one up in here, never by id alone)."""
    return WebAuthnCredential.objects.filter(user_id=user.pk, confirmed=True).order_by(
        "-created_at"
    )


# --- authenticator app ----------------------------------------------------------------------


@dataclass(frozen=True)
class PendingTotp:
    device: TOTPDevice
    secret: str  # base32, as authenticator apps take it typed in
    qr_svg: str  # inline <svg> of the otpauth:// URL


def totp_begin(*, user) -> PendingTotp:
    """A new, unconfirmed authenticator with a fresh secret (any earlier unconfirmed one is
    dropped: a secret is shown once)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return _pending(device)


def totp_pending(*, user, device_id: int) -> PendingTotp | None:
    """The set-up still waiting for its code (shown again after a wrong code), if any."""
    device = TOTPDevice.objects.filter(user_id=user.pk, pk=device_id, confirmed=False).first()
    return _pending(device) if device is not None else None


def _pending(device: TOTPDevice) -> PendingTotp:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, border=2, dark="#111", light="#fff", omitsize=True)
    return PendingTotp(device=device, secret=secret, qr_svg=svg)


def totp_confirm(*, user, device_id: int, code: str, actor: Actor) -> list[str]:
    """Confirm the pending authenticator with a code from it; the recovery codes made with
    a first factor are returned (shown once), else an empty list."""
    device = TOTPDevice.objects.filter(user_id=user.pk, pk=device_id, confirmed=False).first()
    if device is None:
        raise CodeRefused(_("This set-up has expired: start again."), field="code")
    _check(device, _totp_code(code))
    with transaction.atomic():
        first = not enrolled(user)
        TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_make(user) if first or not _has_recovery(user) else []
    _forget(user)
    audit_log(actor=actor, action="mfa.totp.add", outcome="ok", user=user.get_username())
    return codes


def totp_remove(*, user, actor: Actor) -> None:
    if not TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists():
        raise Refused(_("You have no authenticator app set up."))
    has_passkey = passkeys(user=user).exists()
    if required_for(user) and not has_passkey:
        raise Refused(_("Your role needs a second factor: add a passkey before removing the app."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).delete()
        if not has_passkey:
            StaticDevice.objects.filter(user_id=user.pk).delete()
    _forget(user)
    audit_log(actor=actor, action="mfa.totp.remove", outcome="ok", user=user.get_username())


# --- passkeys ---------------------------------------------------------------------------------


def recovery_first(*, user, actor: Actor) -> list[str]:
    """Recovery codes for a login that has a factor but none yet (a first passkey is
    registered by django-otp-webauthn's own endpoints): shown once, else an empty list."""
    if _has_recovery(user) or not enrolled(user):
        return []
    with transaction.atomic():
        codes = _recovery_codes_make(user)
    audit_log(actor=actor, action="mfa.recovery.first", outcome="ok", user=user.get_username())
    return codes


def passkey_added(*, user, passkey_id: int, user_agent: str, actor: Actor) -> None:
    """Name and record a passkey django-otp-webauthn has just registered for ``user`` (the
    library stores it nameless): its provider, else the browser that made it (passkey_names)."""
    passkey = passkeys(user=user).filter(pk=passkey_id).first()
    name = ""
    if passkey is not None and not passkey.name:
        name = passkey_name_make(aaguid=passkey.aaguid, user_agent=user_agent)
        WebAuthnCredential.objects.filter(pk=passkey.pk).update(name=name)
    _forget(user)
    audit_log(
        actor=actor,
        action="mfa.passkey.add",
        outcome="ok",
        user=user.get_username(),
        passkey=passkey_id,
        name=name,
    )


def passkey_rename(*, user, passkey: WebAuthnCredential, name: str, actor: Actor) -> None:
    """Give one of ``user``'s passkeys a new name (trimmed, 1 to 64 characters); audited."""
    if passkey.user_id != user.pk:  # views look it up in passkeys(user=...); belt and braces
        raise Refused(_("This passkey is not yours."))
    name = (name or "").strip()
    if not name:
        raise Refused(_("Enter a name for the passkey."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise Refused(
            _("A name is at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}, field="name"
        )
    old = passkey.name
    if name == old:
        return
    passkey.name = name
    passkey.save(update_fields=["name"])
    audit_log(
        actor=actor,
        action="mfa.passkey.rename",
        outcome="ok",
        user=user.get_username(),
        passkey=passkey.pk,
        name=[old, name],
    )


def passkey_remove(*, user, passkey: WebAuthnCredential, actor: Actor) -> None:
    if passkey.user_id != user.pk:  # views look it up in passkeys(user=...); belt and braces
        raise Refused(_("This passkey is not yours."))
    others = passkeys(user=user).exclude(pk=passkey.pk).exists()
    totp = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()
    if required_for(user) and not (others or totp):
        raise Refused(_("Your role needs a second factor: add another one before removing it."))
    with transaction.atomic():
        passkey.delete()
        if not (others or totp):
            StaticDevice.objects.filter(user_id=user.pk).delete()
    _forget(user)
    audit_log(actor=actor, action="mfa.passkey.remove", outcome="ok", user=user.get_username())


# --- recovery codes ---------------------------------------------------------------------------


def recovery_regenerate(*, user, actor: Actor) -> list[str]:
    """New recovery codes (the old ones stop working); only with a factor to back up."""
    if not enrolled(user):
        raise Refused(_("Set up an authenticator app or a passkey first."))
    with transaction.atomic():
        codes = _recovery_codes_make(user)
    audit_log(actor=actor, action="mfa.recovery.regenerate", outcome="ok", user=user.get_username())
    return codes


def _has_recovery(user) -> bool:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).exists()


def _recovery_codes_make(user) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(settings.MFA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


# --- the sign-in step -------------------------------------------------------------------------


def code_verify(*, user, code: str):
    """The device a typed code belongs to (authenticator code or recovery code, which is used
    up); CodeRefused with a message for the person otherwise."""
    text = re.sub(r"[\s-]", "", code or "").lower()
    if not text:
        raise CodeRefused(_("Enter the code from your app or a recovery code."), field="code")
    if _TOTP_CODE.match(text):
        devices = list(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True))
    elif _RECOVERY_CODE.match(text):
        devices = list(StaticDevice.objects.filter(user_id=user.pk, confirmed=True))
    else:
        raise CodeRefused(
            _("Enter the 6-digit code from your app, or one of your recovery codes."),
            field="code",
        )
    throttled = False
    for device in devices:
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            throttled = True
        elif device.verify_token(text):
            return device
    if throttled:
        raise CodeRefused(_too_many(), field="code")
    raise CodeRefused(_("That code is not right."), field="code")


def _totp_code(code: str) -> str:
    text = re.sub(r"\s", "", code or "")
    if not text:
        raise CodeRefused(_("Enter the 6-digit code from your app."), field="code")
    if not _TOTP_CODE.match(text):
        raise CodeRefused(_("The code is 6 digits, from your authenticator app."), field="code")
    return text


def _check(device, text: str) -> None:
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        raise CodeRefused(_too_many(), field="code")
    if not device.verify_token(text):
        raise CodeRefused(_("That code is not right."), field="code")


# --- staff ------------------------------------------------------------------------------------


def reset(*, user, actor: Actor) -> int:
    """Remove every second factor of ``user`` (staff recovery); audited. Their next sign-in
    goes to enrolment when their role needs one. Returns how many devices were removed."""
    with transaction.atomic():
        removed = sum(
            model.objects.filter(user_id=user.pk).delete()[1].get(model._meta.label, 0)
            for model in (TOTPDevice, StaticDevice, WebAuthnCredential)
        )
    _forget(user)
    audit_log(
        actor=actor,
        action="admin.mfa.reset",
        outcome="ok",
        user=user.get_username(),
        devices=removed,
    )
    return removed
