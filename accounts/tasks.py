"""E-mails about logins (Celery). Thin: each loads by id and sends; safe to run twice (a
second run sends a second, equally valid link)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


@shared_task(acks_late=True, ignore_result=True)
def password_reset_email(user_id: int, base_url: str) -> int:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    protocol, _, domain = base_url.partition("://")
    profile = getattr(user, "profile", None)
    with translation.override((profile.language if profile else "") or settings.LANGUAGE_CODE):
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
    return 1
