"""Onboarding and profile writes: invitations, activation by phone number, portal users."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from decimal import Decimal
from hashlib import sha256

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from telephony.models import VosAccount, VosServer
from telephony.services.mirror import account_refresh
from telephony.vos import VosError, VosUnavailable, deadline_client_for, request_deadline

from ..models import Invitation, Profile, Role
from . import throttle

log = logging.getLogger(__name__)

INVITATION_SALT = "accounts.invitation"
# Activation by phone number: at most this many failed tries per IP and per number per window.
ACTIVATION_MAX_ATTEMPTS = 5
ACTIVATION_WINDOW_SECONDS = 15 * 60


class OnboardingError(Exception):
    """A domain error whose message is safe to show to the person onboarding."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvitationInvalid(OnboardingError):
    pass


class ActivationRefused(OnboardingError):
    pass


class ActivationThrottled(OnboardingError):
    pass


class ActivationUnavailable(OnboardingError):
    pass


# --- Users -----------------------------------------------------------------------------------


def username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()


def portal_user_create(
    *,
    username: str,
    password: str,
    role: str,
    vos_account: VosAccount | None = None,
    email: str = "",
    superuser: bool = False,
    language: str = "",
) -> AbstractBaseUser:
    """A new login with its Profile. Staff get is_staff (and is_superuser when asked)."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model(username=username, email=email)
        user.set_password(password)
        user.is_staff = role == Role.STAFF
        user.is_superuser = role == Role.STAFF and superuser
        user.save()
        Profile.objects.create(
            user=user,
            role=role,
            vos_account=vos_account if role != Role.STAFF else None,
            language=language if language in dict(settings.LANGUAGES) else "",
        )
    return user


@transaction.atomic
def profile_update(
    *,
    user,
    first_name: str,
    last_name: str,
    email: str,
    language: str,
    time_zone: str,
    low_balance_threshold: Decimal | None = None,
) -> Profile:
    user.first_name = first_name
    user.last_name = last_name
    user.email = email
    user.save(update_fields=["first_name", "last_name", "email"])
    profile, _created = Profile.objects.get_or_create(
        user=user, defaults={"role": Role.STAFF if user.is_staff else Role.CUSTOMER}
    )
    profile.language = language
    profile.time_zone = time_zone
    fields = ["language", "time_zone"]
    if (
        profile.role in (Role.CUSTOMER, Role.RESELLER)
        and profile.low_balance_threshold != low_balance_threshold
    ):
        profile.low_balance_threshold = low_balance_threshold
        # A new threshold re-arms the alert: a crossing of it is news.
        profile.low_balance_alerted_at = None
        fields += ["low_balance_threshold", "low_balance_alerted_at"]
    profile.save(update_fields=fields)
    return profile


# --- Invitations -----------------------------------------------------------------------------


def _email_digest(email: str) -> str:
    return sha256(email.strip().lower().encode()).hexdigest()[:16]


def invitation_token(invitation: Invitation) -> str:
    """A signed, timestamped token naming the invitation (and its e-mail)."""
    return signing.dumps(
        {"i": invitation.pk, "e": _email_digest(invitation.email)}, salt=INVITATION_SALT
    )


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a token names; InvitationInvalid when expired, used or forged."""
    max_age = settings.INVITATION_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvitationInvalid(
            _("This invitation link has expired. Ask for a new invitation.")
        ) from None
    except signing.BadSignature:
        raise InvitationInvalid(_("This invitation link is not valid.")) from None
    invitation = (
        Invitation.objects.select_related("vos_account__server").filter(pk=data.get("i")).first()
    )
    if invitation is None or data.get("e") != _email_digest(invitation.email):
        raise InvitationInvalid(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise InvitationInvalid(
            _("This invitation has already been used. Log in, or reset your password.")
        )
    return invitation


def invitation_link(invitation: Invitation, *, base_url: str = "") -> str:
    """The invitation's absolute link: on ``base_url`` (the site the inviter was on, e.g.
    ``request.build_absolute_uri("/")``), else on PORTAL_BASE_URL (background jobs)."""
    path = reverse("invitation_accept", args=[invitation_token(invitation)])
    base = base_url or getattr(settings, "PORTAL_BASE_URL", "http://localhost:8000")
    return base.rstrip("/") + path


def invitation_mail(*, invitation: Invitation, base_url: str = "", language: str = "") -> None:
    """(Re)send the invitation e-mail with a fresh link, now, in ``language`` (else the
    default). The worker's ``accounts.tasks.invitation_email``; requests queue it with
    invitation_mail_queue."""
    context = {
        "invitation": invitation,
        "link": invitation_link(invitation, base_url=base_url),
        "portal_name": settings.PORTAL_NAME,
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
        "inviter": invitation.invited_by,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string("emails/accounts/invitation_subject.txt", context).strip()
        body = render_to_string("emails/accounts/invitation_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    Invitation.objects.filter(pk=invitation.pk).update(last_sent_at=timezone.now())


def invitation_mail_queue(*, invitation: Invitation, base_url: str = "") -> None:
    """Queue the invitation e-mail for after the commit, in the current language. A broker
    that cannot take it is logged (robust), never an error on the inviter's page."""
    from ..tasks import invitation_email

    invitation_id, language = invitation.pk, translation.get_language() or ""
    transaction.on_commit(
        lambda: invitation_email.delay(invitation_id, base_url, language), robust=True
    )


def invitation_send(
    *,
    email: str,
    vos_account: VosAccount | None,
    invited_by,
    role: str = "customer",
    base_url: str = "",
) -> Invitation:
    """Record an invitation and queue the e-mail of its link (valid INVITATION_MAX_AGE_DAYS,
    used once); ``last_sent_at`` is set when the worker has sent it."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}")
    if role in (Role.CUSTOMER, Role.RESELLER) and vos_account is None:
        raise ValueError(f"a {role} invitation needs a VOS account")
    invitation = Invitation.objects.create(
        email=email.strip(),
        role=role,
        vos_account=vos_account if role != Role.STAFF else None,
        invited_by=invited_by if getattr(invited_by, "pk", None) else None,
    )
    invitation_mail_queue(invitation=invitation, base_url=base_url)
    return invitation


def invitation_accept(*, invitation: Invitation, username: str, password: str, language: str = ""):
    """Create the login the invitation promised; each invitation is used at most once."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise InvitationInvalid(
                _("This invitation has already been used. Log in, or reset your password.")
            )
        if username_taken(username):
            raise OnboardingError(_("This username is taken."), field="username")
        user = portal_user_create(
            username=username,
            password=password,
            role=locked.role,
            vos_account=locked.vos_account,
            email=locked.email,
            language=language,
        )
        locked.accepted_at = timezone.now()
        locked.user = user
        locked.save(update_fields=["accepted_at", "user"])
    return user


# --- Activation by phone number + VOS web-query password -------------------------------------


def _throttle_keys(ip: str, phone: str) -> list[str]:
    return [f"accounts:activate:ip:{ip}", f"accounts:activate:num:{phone}"]


@dataclass(frozen=True)
class ProvenNumber:
    server: VosServer
    account: str
    e164: str


def _wrong_number_or_password() -> ActivationRefused:
    # One message for an unknown number and a wrong password: nothing to enumerate.
    return ActivationRefused(_("That number and password do not match our records."))


def activation_check(
    *, phone: str, password: str, ip: str, server: VosServer | None = None
) -> ProvenNumber:
    """Prove that the person owns `phone`: its VOS web-query password must match.

    Every enabled server is asked (or only `server`). Raises ActivationThrottled,
    ActivationRefused (same message whatever was wrong) or ActivationUnavailable.
    """
    keys = _throttle_keys(ip, phone)
    # The attempt is counted before VOS is asked (atomically), and given back when it
    # proves the number or VOS could not tell: only refusals count.
    if not throttle.attempt_take(
        keys, limit=ACTIVATION_MAX_ATTEMPTS, window=ACTIVATION_WINDOW_SECONDS
    ):
        minutes = ACTIVATION_WINDOW_SECONDS // 60
        raise ActivationThrottled(
            _("Too many attempts. Please wait %(minutes)d minutes before trying again.")
            % {"minutes": minutes}
        )
    refused = False
    try:
        return _number_prove(phone=phone, password=password, server=server)
    except ActivationRefused:
        refused = True
        raise
    finally:
        if not refused:
            throttle.attempt_release(keys)


def _number_prove(*, phone: str, password: str, server: VosServer | None) -> ProvenNumber:
    servers = [server] if server is not None else list(VosServer.objects.filter(enabled=True))
    deadline = request_deadline()  # one budget for every server asked
    unreachable = 0
    match: ProvenNumber | None = None
    for candidate in servers:
        try:
            phones = deadline_client_for(candidate, deadline).get_phones(e164s=[phone])
        except VosUnavailable as exc:
            log.warning("activation: %s did not answer GetPhone: %s", candidate, exc)
            unreachable += 1
            continue
        except VosError as exc:
            log.warning("activation: %s rejected GetPhone: %s", candidate, exc)
            continue
        for info in phones:
            if info.e164 != phone or not info.account:
                continue
            # An empty web password on the switch never proves anything.
            expected = info.customer_password.encode()
            if expected and hmac.compare_digest(expected, password.encode()):
                match = ProvenNumber(server=candidate, account=info.account, e164=info.e164)
                break
        if match:
            return match
    if unreachable or not servers:
        # Cannot tell a wrong password from an unreachable switch: no attempt is counted.
        raise ActivationUnavailable(
            _("We cannot check your number right now. Please try again in a few minutes.")
        )
    raise _wrong_number_or_password()


def customer_login_exists(vos_account: VosAccount) -> bool:
    return Profile.objects.filter(vos_account=vos_account, role=Role.CUSTOMER).exists()


def activation_complete(
    *, proven: ProvenNumber, username: str, password: str, email: str = "", language: str = ""
):
    """Create the customer login for a proven number's account (one login per account)."""
    with transaction.atomic():
        vos_account, _created = VosAccount.objects.get_or_create(
            server=proven.server, account=proven.account
        )
        # Serialise concurrent activations of the same account.
        vos_account = VosAccount.objects.select_for_update().get(pk=vos_account.pk)
        if customer_login_exists(vos_account):
            raise ActivationRefused(
                _(
                    "This account already has a portal login. If you forgot its password, "
                    "reset it from the login page."
                )
            )
        if username_taken(username):
            raise OnboardingError(_("This username is taken."), field="username")
        user = portal_user_create(
            username=username,
            password=password,
            role=Role.CUSTOMER,
            vos_account=vos_account,
            email=email,
            language=language,
        )
    # Outside the transaction: a short VOS read fills the figures now; the sync job otherwise.
    account_refresh(vos_account=vos_account)
    return user
