"""Second-factor helpers for tests (docs/ACCOUNTS.md, "Two-factor sign-in").

The suite's default is MFA_REQUIRED_ROLES=[] (tests/conftest.py) so tests that sign staff and
resellers in with ``force_login`` or the password form keep working; ``mfa_required`` turns
the production default back on. ``verified_login`` signs a user in *and* marks the session as
having passed its second factor, the way django-otp's ``otp_login`` does.
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential


@pytest.fixture
def mfa_required(settings):
    settings.MFA_REQUIRED_ROLES = ["staff", "reseller"]
    return settings


def totp_device(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=confirmed)


def totp_code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    """The code the user's app shows now (or ``offset_steps`` windows later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def recovery_codes(user, codes=("abcd2345efgh", "ijkl6789mnop")) -> list[str]:
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return list(codes)


def passkey(user, *, name: str = "Phone") -> WebAuthnCredential:
    """A stored passkey row (the browser ceremony itself is the library's, tested there)."""
    raw = os.urandom(32)
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=raw,
        credential_id_sha256=hashlib.sha256(raw).hexdigest(),
        public_key=os.urandom(64),
        sign_count=0,
    )


def verified_login(client, user, device=None) -> None:
    """force_login + a session that passed the second factor with ``device``."""
    device = device or TOTPDevice.objects.filter(user=user).first() or totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
