"""The customer's e-mail receipt of a credited online payment (sent once)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import Profile

from ..models import LedgerEntry, OnlinePayment

log = logging.getLogger(__name__)


def online_receipt_send(*, payment_id: int) -> int:
    """E-mail the receipt of a credited payment to the customer who paid; 1 if sent.

    The payment's ``receipt_sent_at`` is claimed by a conditional UPDATE first: a task run
    twice, or two workers, send one e-mail.
    """
    claimed = OnlinePayment.objects.filter(
        pk=payment_id, state=OnlinePayment.State.CREDITED, receipt_sent_at__isnull=True
    ).update(receipt_sent_at=timezone.now())
    if not claimed:
        return 0
    payment = OnlinePayment.objects.select_related("user").get(pk=payment_id)
    email = payment.user.email
    if not email:
        return 0
    entry = (
        LedgerEntry.objects.filter(online_payment=payment, kind=LedgerEntry.Kind.ONLINE)
        .filter(state=LedgerEntry.State.APPLIED)
        .first()
    )
    profile = Profile.objects.filter(user=payment.user).first()
    language = (profile.language if profile else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        context = {"payment": payment, "entry": entry, "PORTAL_NAME": settings.PORTAL_NAME}
        subject = render_to_string("billing/email/online_receipt_subject.txt", context).strip()
        body = render_to_string("billing/email/online_receipt_body.txt", context)
    try:
        send_mail(subject, body, None, [email])
    except Exception:  # a mail outage must not undo or hide a credited payment
        log.exception("online receipt for payment %s to %s failed", payment.reference, email)
        return 0
    return 1
