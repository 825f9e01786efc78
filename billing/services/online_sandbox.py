"""The test gateway's "hosted page" (DEBUG, no provider configured): what Stripe would send.

Finishing a test checkout builds the Stripe event Checkout sends (checkout.session.completed or
.expired), signs it with the development secret exactly as Stripe signs, and hands it to the
same ``notification_receive`` the webhook uses — verification by the SDK included. So
``make run`` shows the real flow: confirming page, notification, Celery credit, receipt.
"""

from __future__ import annotations

import time
import uuid

from ..models import OnlinePayment
from .gateways import gateway, signed_event, to_minor
from .online_events import Received, notification_receive


def sandbox_session_event(*, payment: OnlinePayment, event_type: str, method: str) -> dict:
    """A Stripe event of ``event_type`` about the payment's checkout session."""
    paid = event_type == "checkout.session.completed"
    return {
        "id": f"evt_test_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {
            "object": {
                "id": payment.gateway_id,
                "object": "checkout.session",
                "client_reference_id": str(payment.reference),
                "amount_total": to_minor(payment.amount, payment.currency),
                "currency": payment.currency.lower(),
                "mode": "payment",
                "payment_intent": f"pi_test_{payment.reference.hex[:24]}" if paid else None,
                "payment_method_types": [method],
                "payment_status": "paid" if paid else "unpaid",
                "status": "complete" if paid else "expired",
                "metadata": {"portal_payment": str(payment.reference)},
            }
        },
    }


def sandbox_checkout_finish(
    *, payment_id: int, outcome: str, method: str, remote_ip: str | None = None
) -> Received | None:
    """Pay (``outcome`` "pay") or abandon the test checkout; None if not a test payment."""
    gw = gateway()
    payment = OnlinePayment.objects.filter(pk=payment_id, provider="test").first()
    if gw is None or gw.name != "test" or payment is None:
        return None
    event_type = "checkout.session.completed" if outcome == "pay" else "checkout.session.expired"
    event = sandbox_session_event(payment=payment, event_type=event_type, method=method[:32])
    body, header = signed_event(event=event, secret=gw.webhook_secret)
    return notification_receive(provider="test", body=body, signature=header, remote_ip=remote_ip)
