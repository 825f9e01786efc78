"""The payment gateway, through the official ``stripe`` SDK: hosted Checkout, verified events.

Nothing here speaks the gateway's protocol by hand: the SDK creates the Checkout Session and
verifies the ``Stripe-Signature`` header (``stripe.Webhook.construct_event``). This module only
turns a verified event into a plain ``GatewayEvent`` the online-payment service can check.

The test gateway (DEBUG, no provider configured) is the same code with the portal's own page
in place of Stripe's: its notifications are Stripe-shaped events signed with a development
secret, verified by the same SDK call. See docs/MONEY.md, "Online payments".
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from telephony.errors import Refused

log = logging.getLogger(__name__)

# Stripe's zero-decimal currencies: the amount is given in whole units.
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".upper().split()
)
# Checkout sessions expire after this (Stripe's minimum is 30 minutes).
CHECKOUT_EXPIRES_SECONDS = 60 * 60
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
CLOSED_EVENTS = ("checkout.session.expired", "checkout.session.async_payment_failed")


class GatewayError(Refused):
    """The gateway could not start a checkout (shown next to the form)."""


class NotificationRefused(Exception):
    """A notification whose signature (or body) the SDK did not accept."""


@dataclass(frozen=True)
class Checkout:
    gateway_id: str
    url: str


@dataclass(frozen=True)
class GatewayEvent:
    """The part of a verified event the service acts on.

    ``kind``: "paid", "closed" (expired or failed), "refund", "dispute" or "other".
    ``amount`` is in major units (Decimal); for a refund it is the charge's refunded total.
    """

    event_id: str
    event_type: str
    kind: str
    payload: dict
    reference: str = ""
    gateway_id: str = ""
    gateway_payment_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    paid: bool = False
    method: str = ""
    reversal_id: str = ""


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to the gateway's integer amount; ValueError if it does not divide exactly."""
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    minor = amount * factor
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(minor)


def from_minor(minor: Any, currency: str) -> Decimal | None:
    if isinstance(minor, bool) or not isinstance(minor, int) or minor < 0 or minor > 10**15:
        return None
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    return Decimal(minor) / factor


def _event_fields(event_type: str, obj: dict) -> dict[str, Any]:
    currency = str(obj.get("currency") or "").upper()
    if event_type in PAID_EVENTS or event_type in CLOSED_EVENTS:
        methods = obj.get("payment_method_types") or []
        return {
            "kind": "paid" if event_type in PAID_EVENTS else "closed",
            "reference": str(obj.get("client_reference_id") or ""),
            "gateway_id": str(obj.get("id") or ""),
            "gateway_payment_id": str(obj.get("payment_intent") or ""),
            "amount": from_minor(obj.get("amount_total"), currency),
            "currency": currency,
            "paid": obj.get("payment_status") == "paid",
            "method": str(methods[0]) if len(methods) == 1 else "",
        }
    if event_type == "charge.refunded":
        return {
            "kind": "refund",
            "gateway_payment_id": str(obj.get("payment_intent") or ""),
            "amount": from_minor(obj.get("amount_refunded"), currency),
            "currency": currency,
            "reversal_id": str(obj.get("id") or ""),
        }
    if event_type == "charge.dispute.created":
        return {
            "kind": "dispute",
            "gateway_payment_id": str(obj.get("payment_intent") or ""),
            "amount": from_minor(obj.get("amount"), currency),
            "currency": currency,
            "reversal_id": str(obj.get("id") or ""),
        }
    return {"kind": "other"}


class StripeGateway:
    name = "stripe"

    def __init__(self, *, api_key: str, webhook_secret: str, timeout: float) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.timeout = timeout

    def _client(self) -> stripe.StripeClient:
        # One network retry: the SDK resends with the same Idempotency-Key, so Stripe makes
        # one session however many times the request reached it.
        return stripe.StripeClient(
            self.api_key,
            http_client=stripe.RequestsClient(timeout=self.timeout),
            max_network_retries=1,
        )

    def checkout_create(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        description: str,
        success_url: str,
        cancel_url: str,
        email: str = "",
    ) -> Checkout:
        methods = list(settings.ONLINE_PAYMENTS_METHODS)
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": reference,
            "payment_method_types": methods,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": to_minor(amount, currency),
                        "product_data": {"name": description},
                    },
                }
            ],
            "metadata": {"portal_payment": reference},
            "payment_intent_data": {"metadata": {"portal_payment": reference}},
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(time.time()) + CHECKOUT_EXPIRES_SECONDS,
        }
        if "wechat_pay" in methods:
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        if email:
            params["customer_email"] = email
        try:
            session = self._client().v1.checkout.sessions.create(
                params=params, options={"idempotency_key": f"checkout-{reference}"}
            )
        except stripe.StripeError as exc:
            log.warning("checkout for %s refused by Stripe: %s", reference, exc)
            raise GatewayError(
                _("The payment page could not be opened. Nothing was charged; please try again.")
            ) from exc
        session = session.to_dict()
        if not session.get("id") or not session.get("url"):
            raise GatewayError(
                _("The payment page could not be opened. Nothing was charged; please try again.")
            )
        return Checkout(gateway_id=str(session["id"]), url=str(session["url"]))

    def event_verify(self, *, body: bytes, signature: str | None) -> GatewayEvent:
        """The verified event; NotificationRefused for a bad signature, age or body."""
        try:
            event = stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
            raise NotificationRefused(str(exc)[:200]) from exc
        payload = event.to_dict()
        event_type = str(payload.get("type") or "")
        obj = (payload.get("data") or {}).get("object") or {}
        if not isinstance(obj, dict):
            raise NotificationRefused("event without a data object")
        return GatewayEvent(
            event_id=str(payload.get("id") or ""),
            event_type=event_type,
            payload=payload,
            **_event_fields(event_type, obj),
        )


class TestGateway(StripeGateway):
    """Development only: the portal's own page plays the hosted checkout (no network)."""

    name = "test"

    def checkout_create(self, *, reference: str, **kwargs: Any) -> Checkout:
        return Checkout(
            gateway_id=f"cs_test_{reference.replace('-', '')}",
            url=reverse("customer:topup_test_gateway", args=[reference]),
        )


def dev_webhook_secret() -> str:
    """The test gateway's signing secret: derived from SECRET_KEY, never configured."""
    digest = hashlib.sha256(f"test-gateway:{settings.SECRET_KEY}".encode()).hexdigest()
    return f"whsec_{digest[:32]}"


def gateway() -> StripeGateway | None:
    """The configured gateway, or None when online payments are off."""
    provider = settings.ONLINE_PAYMENTS_PROVIDER
    timeout = settings.ONLINE_GATEWAY_TIMEOUT
    if provider == "stripe":
        return StripeGateway(
            api_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            timeout=timeout,
        )
    if provider == "test":
        return TestGateway(api_key="sk_test_portal", webhook_secret=dev_webhook_secret(), timeout=1)
    return None


def signed_event(*, event: dict, secret: str) -> tuple[bytes, str]:
    """A body and its Stripe-Signature header, signed the way Stripe signs (the SDK's helper).

    Used by the test gateway page; tests compute the header themselves from Stripe's scheme.
    """
    body = json.dumps(event, separators=(",", ":"))
    header = stripe.WebhookSignature.generate_signature_header(body, secret)
    return body.encode(), header
