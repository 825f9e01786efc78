"""Online payments in tests: Stripe-shaped events signed as Stripe signs them, the portal set
up for the stripe provider, Checkout Session creation shaped with `responses`.

The signature is computed here from Stripe's documented scheme (not with the SDK's helper):
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(webhook secret, "<t>.<raw body>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal

import responses
from django.urls import reverse

from billing.models import OnlinePayment

WEBHOOK_SECRET = "whsec_test_5d41402abc4b2a76b9719d911017c592"
API_KEY = "sk_test_portal_unit"
SESSIONS_URL = "https://api.stripe.com/v1/checkout/sessions"
WEBHOOK = reverse("online:webhook", args=["stripe"])
TOPUP = reverse("customer:topup")


def stripe_signature(body: str, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def session_event(
    payment: OnlinePayment,
    *,
    event_type: str = "checkout.session.completed",
    amount_total: int | None = None,
    currency: str | None = None,
    payment_status: str = "paid",
    reference: str | None = None,
    event_id: str | None = None,
) -> dict:
    minor = int(payment.amount * 100) if amount_total is None else amount_total
    return event(
        event_type,
        {
            "id": payment.gateway_id,
            "object": "checkout.session",
            "amount_total": minor,
            "amount_subtotal": minor,
            "client_reference_id": reference or str(payment.reference),
            "currency": (currency or payment.currency).lower(),
            "mode": "payment",
            "payment_intent": f"pi_{payment.reference.hex[:24]}",
            "payment_method_types": ["card"],
            "payment_status": payment_status,
            "status": "complete" if payment_status == "paid" else "open",
            "metadata": {"portal_payment": str(payment.reference)},
        },
        event_id=event_id,
    )


def refund_event(payment: OnlinePayment, *, refunded_minor: int) -> dict:
    return event(
        "charge.refunded",
        {
            "id": f"ch_{payment.reference.hex[:24]}",
            "object": "charge",
            "amount": int(payment.amount * 100),
            "amount_refunded": refunded_minor,
            "currency": payment.currency.lower(),
            "payment_intent": f"pi_{payment.reference.hex[:24]}",
            "refunded": refunded_minor == int(payment.amount * 100),
        },
    )


def dispute_event(payment: OnlinePayment, *, amount_minor: int, dispute_id: str) -> dict:
    return event(
        "charge.dispute.created",
        {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount_minor,
            "charge": f"ch_{payment.reference.hex[:24]}",
            "currency": payment.currency.lower(),
            "payment_intent": f"pi_{payment.reference.hex[:24]}",
            "reason": "fraudulent",
            "status": "needs_response",
        },
    )


def deliver(client, payload: dict, *, secret: str = WEBHOOK_SECRET, signature: str | None = None):
    """POST the event as Stripe does: the raw JSON body and its Stripe-Signature header."""
    body = json.dumps(payload)
    header = signature if signature is not None else stripe_signature(body, secret=secret)
    return client.post(
        WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def session_created(rsps: responses.RequestsMock, session_id: str = "cs_test_a1b2c3") -> None:
    rsps.add(
        responses.POST,
        SESSIONS_URL,
        json={
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
        },
    )


def start_payment(client, amount: str = "25", session_id: str = "cs_test_a1b2c3") -> OnlinePayment:
    """The customer asks to top up ``amount``; Stripe's answer shaped; the payment row."""
    with responses.RequestsMock() as rsps:
        session_created(rsps, session_id)
        response = client.post(TOPUP, {"amount": amount})
    assert response.status_code == 303, response.content[:500]
    return OnlinePayment.objects.get(gateway_id=session_id)


def portal_pays(emulator, account: str = "1001") -> list[dict]:
    return [
        r
        for r in emulator.state.pay_history
        if r["account"] == account and (r.get("memo") or "").startswith("portal#")
    ]


def money(value: str) -> Decimal:
    return Decimal(value)
