"""The gateway's notifications: verified by the SDK, checked against the payment, recorded.

``notification_receive`` never sends a Pay. A verified "paid" whose amount, currency and
status match what we created moves the payment to paid (one conditional UPDATE) and queues
``billing.tasks.online_credit`` after the commit; every delivery of it queues the task again,
which is harmless (the credit is one ledger row). Refunds and chargebacks become deduction
rows, sent at once or held for staff (``ONLINE_REFUNDS_AUTO``). Every delivery is a
``PaymentNotification`` row. See docs/MONEY.md, "Online payments".
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ..models import LedgerEntry, OnlinePayment, PaymentNotification
from ..signals import online_payment_paid, online_reversal_created
from .gateways import GatewayEvent, NotificationRefused, gateway, to_minor
from .ledger import Kind

log = logging.getLogger(__name__)

Outcome = PaymentNotification.Outcome
PState = OnlinePayment.State
# Where a paid notification may still move the payment (expired/failed: the gateway took the
# money after all, so it is credited).
PAYABLE = (PState.CREATED, PState.OPEN, PState.EXPIRED, PState.FAILED)


@dataclass(frozen=True)
class Received:
    """What the webhook view answers: the HTTP status and the recorded notification."""

    status: int
    notification: PaymentNotification


def _record(
    provider: str,
    outcome: str,
    *,
    event: GatewayEvent | None = None,
    payment: OnlinePayment | None = None,
    detail: str = "",
    payload: dict | None = None,
    remote_ip: str | None = None,
) -> PaymentNotification:
    if outcome not in (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.IGNORED, Outcome.NOT_PAID):
        log.error("payment notification refused (%s): %s", outcome, detail)
    return PaymentNotification.objects.create(
        provider=provider,
        payment=payment,
        event_id=event.event_id if event else "",
        event_type=event.event_type if event else "",
        verified=event is not None,
        outcome=outcome,
        detail=detail[:2000],
        payload=event.payload if event else (payload or {}),
        remote_ip=remote_ip,
    )


def notification_receive(
    *, provider: str, body: bytes, signature: str | None, remote_ip: str | None = None
) -> Received:
    """Verify, check and record one notification; queue the credit when it says paid."""
    gw = gateway()
    if gw is None or gw.name != provider:
        raise LookupError(provider)
    try:
        event = gw.event_verify(body=body, signature=signature)
    except NotificationRefused as exc:
        text = body[:2000].decode("utf-8", "replace")
        note = _record(
            provider,
            Outcome.BAD_SIGNATURE,
            detail=str(exc),
            payload={"body": text},
            remote_ip=remote_ip,
        )
        return Received(400, note)
    handler = {"paid": _paid, "closed": _closed, "refund": _reversal, "dispute": _reversal}.get(
        event.kind
    )
    if handler is None:
        return Received(200, _record(provider, Outcome.IGNORED, event=event, remote_ip=remote_ip))
    with transaction.atomic():
        status, outcome, payment, detail = handler(provider, event)
        note = _record(
            provider, outcome, event=event, payment=payment, detail=detail, remote_ip=remote_ip
        )
    return Received(status, note)


def _mismatch(payment: OnlinePayment, event: GatewayEvent) -> tuple[str, str] | None:
    if event.currency != payment.currency.upper():
        return Outcome.BAD_CURRENCY, f"currency {event.currency!r}, expected {payment.currency}"
    if event.amount is None or event.amount != payment.amount:
        return Outcome.BAD_AMOUNT, f"amount {event.amount}, expected {payment.amount}"
    return None


def _paid(provider: str, event: GatewayEvent):
    payment = _lookup(provider, event)
    if payment is None:
        return 200, Outcome.UNKNOWN_PAYMENT, None, f"no payment {event.reference!r}"
    wrong = _mismatch(payment, event)
    if wrong is not None:
        return 200, wrong[0], payment, wrong[1]
    if not event.paid:
        return 200, Outcome.NOT_PAID, payment, "payment_status is not paid"
    moved = OnlinePayment.objects.filter(pk=payment.pk, state__in=PAYABLE).update(
        state=PState.PAID,
        paid_at=timezone.now(),
        gateway_id=event.gateway_id or payment.gateway_id,
        gateway_payment_id=event.gateway_payment_id,
        method=event.method[:32],
    )
    payment.refresh_from_db()
    if payment.state == PState.PAID:
        _queue_credit(payment.pk)
    return 200, Outcome.ACCEPTED if moved else Outcome.DUPLICATE, payment, ""


def _lookup(provider: str, event: GatewayEvent) -> OnlinePayment | None:
    """The payment a session event names (reference and, once known, the session id)."""
    try:
        reference = uuid.UUID(event.reference)
    except ValueError:
        return None
    payment = OnlinePayment.objects.filter(provider=provider, reference=reference).first()
    if payment is None:
        return None
    if payment.gateway_id and event.gateway_id != payment.gateway_id:
        return None
    return payment


def _queue_credit(payment_id: int) -> None:
    # billing.receivers queues billing.tasks.online_credit after the commit.
    online_payment_paid.send(sender=OnlinePayment, payment_id=payment_id)


def _closed(provider: str, event: GatewayEvent):
    payment = _lookup(provider, event)
    if payment is None:
        return 200, Outcome.UNKNOWN_PAYMENT, None, f"no payment {event.reference!r}"
    state = PState.EXPIRED if event.event_type.endswith("expired") else PState.FAILED
    moved = OnlinePayment.objects.filter(
        pk=payment.pk, state__in=(PState.CREATED, PState.OPEN)
    ).update(state=state)
    return 200, Outcome.ACCEPTED if moved else Outcome.DUPLICATE, payment, ""


def _lock(payment: OnlinePayment) -> OnlinePayment:
    """The payment row, locked for this transaction (SQLite: its write lock)."""
    if connection.vendor == "sqlite":
        OnlinePayment.objects.filter(pk=payment.pk).update(refunded=F("refunded"))
        return OnlinePayment.objects.get(pk=payment.pk)
    return OnlinePayment.objects.select_for_update().get(pk=payment.pk)


def _reversal(provider: str, event: GatewayEvent):
    """A refund (the charge's refunded total) or a chargeback: one deduction row for what is new."""
    payment = (
        OnlinePayment.objects.filter(
            provider=provider, gateway_payment_id=event.gateway_payment_id
        ).first()
        if event.gateway_payment_id
        else None
    )
    if payment is None:
        # Possibly ahead of the paid notification: 409 makes the gateway deliver it again.
        return 409, Outcome.UNKNOWN_PAYMENT, None, f"no payment {event.gateway_payment_id!r}"
    if event.currency != payment.currency.upper() or event.amount is None:
        return 200, Outcome.BAD_CURRENCY, payment, f"currency {event.currency!r}"
    if payment.state == PState.PAID:
        return 409, Outcome.NOT_PAID, payment, "credit still in progress; deliver again"
    payment = _lock(payment)
    if event.kind == "refund":
        new_total, key = event.amount, f"refund:{to_minor(event.amount, payment.currency)}"
    else:
        new_total, key = payment.refunded + event.amount, f"dispute:{event.reversal_id}"
    if new_total > payment.amount:
        return 200, Outcome.BAD_AMOUNT, payment, f"reversal {new_total} over {payment.amount}"
    delta = new_total - payment.refunded
    if (
        delta <= 0
        or LedgerEntry.objects.filter(idempotency_key=f"{payment.credit_key}:{key}").exists()
    ):
        return 200, Outcome.DUPLICATE, payment, ""
    OnlinePayment.objects.filter(pk=payment.pk).update(refunded=new_total)
    if payment.state == PState.CREDITED:
        _deduction_create(payment, delta, key, event)
    return 200, Outcome.ACCEPTED, payment, f"{event.kind} {delta}"


def _deduction_create(payment: OnlinePayment, delta, key: str, event: GatewayEvent) -> None:
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                server=payment.server,
                account=payment.account,
                amount=-delta,
                kind=Kind.ONLINE_REVERSAL,
                idempotency_key=f"{payment.credit_key}:{key}",
                reseller_account=payment.reseller_account,
                online_payment=payment,
                memo=f"online {event.kind} {event.reversal_id}"[:100],
                created_by=payment.user,
            )
    except IntegrityError:
        return
    if settings.ONLINE_REFUNDS_AUTO:
        # billing.receivers queues billing.tasks.online_reversal after the commit.
        online_reversal_created.send(sender=LedgerEntry, entry_id=entry.pk)
    else:
        log.warning("online payment %s: %s held for staff review", payment.reference, event.kind)
