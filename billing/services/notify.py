"""E-mails about money: receipts of settled movements and low-balance alerts."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Profile, Role
from telephony.money import format_money

from ..models import LedgerEntry
from . import webhooks

log = logging.getLogger(__name__)


def receipt_email_send(*, entry: LedgerEntry) -> int:
    """Tell the customer their balance moved (portal users of the account with an e-mail)."""
    profiles = Profile.objects.filter(
        role=Role.CUSTOMER,
        vos_account__server_id=entry.server_id,
        vos_account__account=entry.account,
    ).select_related("user")
    sent = 0
    for profile in profiles:
        email = profile.user.email
        if not email:
            continue
        language = profile.language or settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "entry": entry,
                "PORTAL_NAME": settings.PORTAL_NAME,
                "PORTAL_CURRENCY": settings.PORTAL_CURRENCY,
                "amount": abs(entry.amount),
            }
            subject = render_to_string("billing/email/receipt_subject.txt", context).strip()
            body = render_to_string("billing/email/receipt_body.txt", context)
        try:
            send_mail(subject, body, None, [email])
            sent += 1
        except Exception:  # a mail outage must not undo or hide a settled payment
            log.exception("receipt e-mail for ledger #%s to %s failed", entry.pk, email)
    return sent


def low_balance_alerts_send(*, now: datetime | None = None) -> int:
    """E-mail each customer and reseller whose balance fell below their threshold.

    One e-mail per crossing: ``Profile.low_balance_alerted_at`` is claimed with a
    conditional UPDATE (only one worker can win it) before sending, and cleared once the
    balance is back at or above the threshold. Returns how many e-mails were sent.
    """
    now = now or timezone.now()
    profiles = (
        Profile.objects.filter(
            role__in=[Role.CUSTOMER, Role.RESELLER],
            vos_account__isnull=False,
            vos_account__missing_since__isnull=True,
        )
        .select_related("user", "vos_account", "vos_account__server")
        .order_by("pk")
    )
    sent = 0
    for profile in profiles.iterator(chunk_size=500):
        below = profile.vos_account.balance < profile.threshold
        if not below:
            if profile.low_balance_alerted_at is not None:
                # Re-arm, unless the row changed since it was read.
                Profile.objects.filter(
                    pk=profile.pk, low_balance_alerted_at=profile.low_balance_alerted_at
                ).update(low_balance_alerted_at=None)
            continue
        if profile.low_balance_alerted_at is not None or not profile.user.email:
            continue
        claimed = Profile.objects.filter(pk=profile.pk, low_balance_alerted_at__isnull=True).update(
            low_balance_alerted_at=now
        )
        if not claimed:
            continue
        if profile.role == Role.CUSTOMER:
            webhooks.account_event_emit(
                vos_account=profile.vos_account,
                event="customer.low_balance",
                data={
                    "balance": str(profile.vos_account.balance),
                    "threshold": str(profile.threshold),
                },
            )
        try:
            _low_balance_mail(profile)
        except Exception:
            # Give the crossing back so the next run tries again.
            Profile.objects.filter(pk=profile.pk, low_balance_alerted_at=now).update(
                low_balance_alerted_at=None
            )
            log.exception("low-balance e-mail to %s failed", profile.user)
            continue
        sent += 1
    return sent


def _low_balance_mail(profile) -> None:
    account = profile.vos_account
    with translation.override(profile.language or settings.LANGUAGE_CODE):
        amount = format_money(account.balance)
        threshold = format_money(profile.threshold)
        subject = _("%(portal)s: low balance on account %(account)s") % {
            "portal": settings.PORTAL_NAME,
            "account": account.account,
        }
        if profile.role == Role.RESELLER:
            lead = _("The balance of your reseller account %(account)s is %(amount)s.")
        else:
            lead = _("The balance of your account %(account)s is %(amount)s.")
        body = "\n\n".join(
            [
                lead % {"account": account.account, "amount": amount},
                _("It is below your alert threshold of %(threshold)s. Top up to keep calling.")
                % {"threshold": threshold},
                _("You will not be alerted again until the balance is back above the threshold."),
            ]
        )
    send_mail(subject, body, None, [profile.user.email])
