"""Online top-ups: limits, starting a checkout, crediting a verified payment exactly once.

The credit is one ledger row (kind ``online``) whose idempotency key is the payment's
reference, inserted under the unique constraint: however many notifications, tasks or sweeps
ask, one row exists, and ``transfer_advance`` sends its Pay at most once (a lost answer is
reconciled from the pay history). Nothing here trusts the browser: only
``online_events.notification_receive`` moves a payment to paid. See docs/MONEY.md.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile
from accounts.services.audit import Actor, audit_log
from telephony.models import VosAccount
from telephony.money import format_money

from ..models import LedgerEntry, OnlinePayment
from .gateways import CHECKOUT_EXPIRES_SECONDS, GatewayError, gateway, to_minor
from .ledger import Kind, LedgerError, State, settle
from .transfers import transfer_advance

log = logging.getLogger(__name__)

PState = OnlinePayment.State
# States that are, or may still become, money (the daily limit counts them).
COUNTED_STATES = (PState.CREATED, PState.OPEN, PState.PAID, PState.CREDITED, PState.ATTENTION)
# A paid payment whose credit has not been applied after this is driven by the sweep.
CREDIT_SWEEP_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class OnlineLimits:
    currency: str
    minimum: Decimal
    maximum: Decimal
    daily: Decimal
    presets: tuple[Decimal, ...]


def online_limits() -> OnlineLimits:
    minimum = Decimal(settings.ONLINE_PAYMENTS_MIN)
    maximum = Decimal(settings.ONLINE_PAYMENTS_MAX)
    presets = tuple(
        amount
        for amount in (Decimal(p) for p in settings.ONLINE_PAYMENTS_PRESETS if p.strip())
        if minimum <= amount <= maximum
    )
    return OnlineLimits(
        currency=settings.ONLINE_PAYMENTS_CURRENCY,
        minimum=minimum,
        maximum=maximum,
        daily=Decimal(settings.ONLINE_PAYMENTS_DAILY_LIMIT),
        presets=presets,
    )


def online_enabled() -> bool:
    return gateway() is not None


def _day_start(now: datetime) -> datetime:
    tz = timezone.get_default_timezone()
    return timezone.make_aware(datetime.combine(timezone.localdate(now, tz), time.min), tz)


def online_day_total(*, account: VosAccount, now: datetime | None = None) -> Decimal:
    """Today's online payments of the account that are or may become money."""
    total = OnlinePayment.objects.filter(
        server_id=account.server_id,
        account=account.account,
        state__in=COUNTED_STATES,
        created_at__gte=_day_start(now or timezone.now()),
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def online_amount_check(*, account: VosAccount, amount: Decimal) -> None:
    """Minimum, maximum, the currency's decimals and the daily limit; LedgerError otherwise."""
    limits = online_limits()
    if amount < limits.minimum or amount > limits.maximum:
        raise LedgerError(
            _("Enter an amount from %(min)s to %(max)s.")
            % {"min": format_money(limits.minimum), "max": format_money(limits.maximum)},
            field="amount",
        )
    try:
        to_minor(amount, limits.currency)
    except ValueError as exc:
        raise LedgerError(_("Enter an amount in whole cents."), field="amount") from exc
    used = online_day_total(account=account)
    if used + amount > limits.daily:
        left = max(Decimal("0"), limits.daily - used)
        raise LedgerError(
            _("This is over the daily limit of %(cap)s for online top-ups: %(left)s is left today.")
            % {"cap": format_money(limits.daily), "left": format_money(left)},
            field="amount",
        )


def _lock_profile(user) -> None:
    """Serialize one customer's checkouts, so the daily limit is counted under a lock."""
    profiles = Profile.objects.filter(user=user)
    if connection.vendor == "sqlite":
        profiles.update(prepaid=F("prepaid"))  # takes SQLite's write lock
    else:
        list(profiles.select_for_update())


def online_payment_start(
    *, actor: Actor, account: VosAccount, amount: Decimal, site_url: str
) -> OnlinePayment:
    """Create the payment row and the gateway's hosted checkout; the row, open, with its URL.

    ``site_url`` is the portal's scheme and host, for the gateway's return links. Refusals
    (feature off, limits) and a gateway that cannot open a checkout raise ``Refused``.
    """
    provider = gateway()
    if provider is None:
        raise LedgerError(_("Online payments are not available."))
    currency = settings.ONLINE_PAYMENTS_CURRENCY
    with transaction.atomic():
        _lock_profile(actor.user)
        online_amount_check(account=account, amount=amount)
        payment = OnlinePayment.objects.create(
            reference=uuid.uuid4(),
            provider=provider.name,
            user=actor.user,
            server=account.server,
            account=account.account,
            reseller_account=account.agent_account or "",
            amount=amount,
            currency=currency,
            created_ip=actor.ip,
        )
    reference = str(payment.reference)
    return_url = site_url + reverse("customer:topup_return", args=[reference])
    try:
        checkout = provider.checkout_create(
            reference=reference,
            amount=amount,
            currency=currency,
            description=_("Top-up of account %(account)s") % {"account": account.account},
            success_url=return_url,
            cancel_url=return_url + "?cancelled=1",
            email=getattr(actor.user, "email", "") or "",
        )
    except GatewayError as exc:
        OnlinePayment.objects.filter(pk=payment.pk, state=PState.CREATED).update(
            state=PState.FAILED, error=exc.message
        )
        _audit(actor, payment, "online.refused", "gateway_error", error=exc.message)
        raise
    OnlinePayment.objects.filter(pk=payment.pk, state=PState.CREATED).update(
        state=PState.OPEN, gateway_id=checkout.gateway_id, checkout_url=checkout.url
    )
    payment.refresh_from_db()
    _audit(actor, payment, "online.started", "open")
    return payment


def _audit(actor: Actor, payment: OnlinePayment, action: str, outcome: str, **detail) -> None:
    audit_log(
        actor=actor,
        action=action,
        outcome=outcome,
        server=payment.server,
        account=payment.account,
        amount=payment.amount,
        payment=str(payment.reference),
        **detail,
    )


def _credit_row(payment: OnlinePayment) -> LedgerEntry:
    """The payment's credit row: inserted once under the unique key, else the existing one."""
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                server=payment.server,
                account=payment.account,
                amount=payment.amount,
                kind=Kind.ONLINE,
                idempotency_key=payment.credit_key,
                reseller_account=payment.reseller_account,
                online_payment=payment,
                memo=f"online {payment.gateway_payment_id or payment.reference}"[:100],
                created_by=payment.user,
                created_ip=payment.created_ip,
            )
    except IntegrityError:
        return LedgerEntry.objects.select_related("server").get(idempotency_key=payment.credit_key)


def online_credit(*, payment_id: int) -> LedgerEntry | None:
    """Credit a paid payment: one ledger row, one Pay. Safe to run any number of times."""
    payment = OnlinePayment.objects.select_related("server").filter(pk=payment_id).first()
    if payment is None or payment.state not in (PState.PAID, PState.CREDITED):
        return None
    entry = _credit_row(payment)
    transfer_advance(entry=entry)
    entry.refresh_from_db()
    if entry.state == State.APPLIED:
        online_credit_settled(entry=entry)
    return entry


def online_credit_settled(*, entry: LedgerEntry) -> bool:
    """Follow the credit row's end state onto the payment (once); True if the payment moved."""
    if entry.kind != Kind.ONLINE or entry.online_payment_id is None:
        return False
    now = timezone.now()
    payments = OnlinePayment.objects.filter(pk=entry.online_payment_id, state=PState.PAID)
    if entry.state == State.APPLIED:
        moved = payments.update(state=PState.CREDITED, credited_at=now)
    elif entry.state == State.FAILED:
        moved = payments.update(state=PState.ATTENTION, error=entry.error[:2000])
        if moved:
            log.error("online payment %s: the switch refused its credit", entry.online_payment_id)
    else:
        return False
    return bool(moved)


def online_credit_retry(*, actor: Actor, payment_id: int) -> LedgerEntry | None:
    """Staff: credit again a paid payment whose every credit row was proven not applied."""
    payment = OnlinePayment.objects.select_related("server").get(pk=payment_id)
    rows = list(payment.ledger_entries.filter(kind=Kind.ONLINE))
    if payment.state != PState.ATTENTION or any(r.state != State.FAILED for r in rows):
        return None
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                server=payment.server,
                account=payment.account,
                amount=payment.amount,
                kind=Kind.ONLINE,
                idempotency_key=f"{payment.credit_key}:retry{len(rows)}",
                reseller_account=payment.reseller_account,
                online_payment=payment,
                memo=f"online {payment.gateway_payment_id or payment.reference}"[:100],
                created_by=payment.user,
                created_ip=payment.created_ip,
            )
            OnlinePayment.objects.filter(pk=payment.pk, state=PState.ATTENTION).update(
                state=PState.PAID
            )
    except IntegrityError:
        return None
    _audit(actor, payment, "online.credit_retry", "pending", ledger_id=entry.pk)
    transfer_advance(entry=entry)
    entry.refresh_from_db()
    if entry.state == State.APPLIED:
        online_credit_settled(entry=entry)
    return entry


def online_reversal_apply(*, actor: Actor | None, entry_id: int) -> LedgerEntry | None:
    """Send a refund's or chargeback's deduction row (automatic, or approved by staff)."""
    entry = (
        LedgerEntry.objects.select_related("server")
        .filter(pk=entry_id, kind=Kind.ONLINE_REVERSAL)
        .first()
    )
    if entry is None:
        return None
    if actor is not None and entry.state == State.PENDING and entry.sent_at is None:
        audit_log(
            actor=actor,
            action="online.reversal_approved",
            outcome="pending",
            server=entry.server,
            account=entry.account,
            ledger_id=entry.pk,
            amount=entry.amount,
        )
    transfer_advance(entry=entry)
    entry.refresh_from_db()
    return entry


def online_reversal_dismiss(*, actor: Actor, entry_id: int) -> bool:
    """Staff: a held deduction is not to be made (e.g. settled with the customer otherwise)."""
    entry = LedgerEntry.objects.filter(pk=entry_id, kind=Kind.ONLINE_REVERSAL).first()
    if entry is None or entry.sent_at is not None:
        return False
    entry.created_by = actor.user or entry.created_by
    return settle(entry, State.FAILED, from_states=[State.PENDING], error="dismissed by staff")


def online_sweep(*, now: datetime | None = None) -> int:
    """Periodic: credit paid payments still waiting (lost task, worker restart); expire old
    open checkouts. Returns how many payments were driven."""
    now = now or timezone.now()
    OnlinePayment.objects.filter(
        state__in=(PState.CREATED, PState.OPEN),
        created_at__lt=now - timedelta(seconds=CHECKOUT_EXPIRES_SECONDS) - timedelta(hours=1),
    ).update(state=PState.EXPIRED)
    driven = 0
    waiting = OnlinePayment.objects.filter(
        state=PState.PAID, paid_at__lt=now - CREDIT_SWEEP_AFTER
    ).values_list("pk", flat=True)
    for payment_id in list(waiting[:500]):
        online_credit(payment_id=payment_id)
        driven += 1
    return driven
