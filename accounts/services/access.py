"""Getting a customer back into the portal, done by their reseller or staff (all audited):
a password-reset e-mail, a temporary password shown once that must be changed at the next
sign-in, or a one-time sign-in link (signed, short-lived, used once). Docs: docs/ACCOUNTS.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from telephony.errors import Refused

from ..models import Profile, SignInLink
from .audit import Actor, audit_log

_SALT = "accounts.signin-link"
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class LinkInvalid(Refused):
    """The sign-in link is unknown, expired, forged or already used."""


def _max_age() -> int:
    return getattr(settings, "SIGNIN_LINK_MAX_AGE_SECONDS", 15 * 60)


def temporary_password_set(*, actor: Actor, user) -> str:
    """A new random password for ``user`` (shown once by the caller, never stored in clear);
    the user must choose their own at the next sign-in. Their other sessions end."""
    password = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
    user.set_password(password)
    user.save(update_fields=["password"])
    Profile.objects.filter(user=user).update(must_change_password=True)
    audit_log(actor=actor, action="login.temporary_password", outcome="ok", user=user.pk)
    return password


def reset_email_queue(*, actor: Actor, user, base_url: str) -> None:
    """Queue the password-reset e-mail to the user's address (after the commit)."""
    if not user.email:
        raise Refused(_("This login has no e-mail address; use a temporary password instead."))
    audit_log(actor=actor, action="login.reset_email", outcome="ok", user=user.pk)
    password_reset_email_queue(user=user, base_url=base_url)


def password_reset_email_queue(*, user, base_url: str) -> None:
    """Queue the password-reset e-mail for after the commit (the reseller's and staff's
    reset, and the login page's "forgot password"). A broker that cannot take it is logged
    (robust), never an error on the page."""
    from ..tasks import password_reset_email

    user_id, language = user.pk, translation.get_language() or ""
    transaction.on_commit(
        lambda: password_reset_email.delay(user_id, base_url, language), robust=True
    )


def password_reset_mail(*, user, base_url: str, language: str = "") -> None:
    """Send the password-reset e-mail now, in the user's language (else ``language``)."""
    protocol, _sep, domain = base_url.partition("://")
    profile = getattr(user, "profile", None)
    language = (profile.language if profile else "") or language or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "protocol": protocol or "https",
            "domain": domain.rstrip("/"),
            "portal_name": settings.PORTAL_NAME,
        }
        subject = render_to_string("emails/accounts/password_reset_subject.txt", context).strip()
        body = render_to_string("emails/accounts/password_reset_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


@dataclass(frozen=True)
class IssuedLink:
    url: str
    expires_at: datetime


def sign_in_link_create(*, actor: Actor, user, base_url: str) -> IssuedLink:
    """A one-time sign-in link for ``user``: its full URL and when it expires. The pages and
    the API's ``login-link`` both make theirs here."""
    link = SignInLink.objects.create(
        user=user,
        nonce=secrets.token_urlsafe(24),
        created_by=actor.user if getattr(actor.user, "pk", None) else None,
        expires_at=timezone.now() + timedelta(seconds=_max_age()),
    )
    token = signing.dumps({"l": link.pk, "n": link.nonce}, salt=_SALT, compress=True)
    audit_log(actor=actor, action="login.link_create", outcome="ok", user=user.pk, link=link.pk)
    url = base_url.rstrip("/") + reverse("signin_link", args=[token])
    return IssuedLink(url=url, expires_at=link.expires_at)


def _link_of(token: str) -> SignInLink:
    try:
        data = signing.loads(token, salt=_SALT, max_age=_max_age())
        link = SignInLink.objects.select_related("user").get(
            pk=int(data["l"]), nonce=str(data["n"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, SignInLink.DoesNotExist):
        raise LinkInvalid(_("This sign-in link is not valid or has expired.")) from None
    if link.used_at is not None or link.expires_at <= timezone.now():
        raise LinkInvalid(_("This sign-in link is not valid or has expired."))
    return link


def sign_in_link_check(*, token: str) -> SignInLink:
    """The link behind ``token`` if it can still be used (nothing is consumed)."""
    return _link_of(token)


def sign_in_link_use(*, token: str, ip: str | None):
    """Consume the link (one conditional UPDATE: used once, whoever races); its user."""
    link = _link_of(token)
    used = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not used or not link.user.is_active:
        raise LinkInvalid(_("This sign-in link is not valid or has expired."))
    audit_log(
        actor=Actor(user=link.user, ip=ip), action="login.link_use", outcome="ok", link=link.pk
    )
    return link.user


def customer_logins(*, account) -> list:
    """The portal logins of one VOS account (customer role)."""
    return list(
        get_user_model()
        .objects.filter(profile__vos_account=account, profile__role="customer")
        .order_by("username")
    )
