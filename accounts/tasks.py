"""E-mails about logins (Celery), queued after the commit by the services that decide to send
them. Thin: each loads by id and calls one service; safe to run twice (a second run sends a
second, equally valid link). A mail server that fails is retried with a growing delay, then
logged; the page that queued the e-mail has long answered."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable

from celery import shared_task
from django.contrib.auth import get_user_model

from .models import Invitation
from .services import access, onboarding

log = logging.getLogger(__name__)

# What a mail server that is down, slow or refusing for now raises; worth another try.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
MAIL_MAX_RETRIES = 6
MAIL_RETRY_SECONDS = 30
MAIL_RETRY_MAX_SECONDS = 1800


def _mailed(task, what: str, send: Callable[[], None]) -> int:
    """1 once ``send`` has sent; a failed send is retried later or logged (0)."""
    try:
        send()
    except MAIL_ERRORS as exc:
        return _mail_failed(task, exc, what)
    return 1


def _mail_failed(task, exc: Exception, what: str) -> int:
    """Retry a failed send later (30 s, 60 s, ... at most 30 min), or log and give up."""
    retries = task.request.retries or 0
    permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
    if permanent or retries >= (task.max_retries or 0):
        log.error("%s not sent after %d tries: %s", what, retries + 1, exc)
        return 0
    log.warning("%s not sent (try %d), retrying: %s", what, retries + 1, exc)
    raise task.retry(countdown=min(MAIL_RETRY_SECONDS * 2**retries, MAIL_RETRY_MAX_SECONDS))


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAIL_MAX_RETRIES)
def invitation_email(self, invitation_id: int, base_url: str = "", language: str = "") -> int:
    """E-mail a pending invitation's link (in the inviter's language)."""
    invitation = (
        Invitation.objects.select_related("vos_account", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return 0
    return _mailed(
        self,
        f"invitation {invitation_id} to {invitation.email}",
        lambda: onboarding.invitation_mail(
            invitation=invitation, base_url=base_url, language=language
        ),
    )


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MAIL_MAX_RETRIES)
def password_reset_email(self, user_id: int, base_url: str, language: str = "") -> int:
    """E-mail a password-reset link, in the user's language (else the one they asked in)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    return _mailed(
        self,
        f"password reset of user {user_id}",
        lambda: access.password_reset_mail(user=user, base_url=base_url, language=language),
    )
