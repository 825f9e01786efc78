"""Webhooks: SSRF-safe URLs, signed deliveries, retries with backoff, disabling, events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services.audit import Actor
from billing.models import WebhookDelivery, WebhookEndpoint
from billing.services import webhooks
from billing.tasks import webhook_deliver, webhooks_due


class Receiver:
    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def endpoint(world, receiver):
    return webhooks.endpoint_create(
        actor=Actor(user=world.reseller),
        owner=world.reseller,
        url=receiver.url,
        events=list(webhooks.EVENTS),
    )


def verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['Webhook-Id']}.{headers['Webhook-Timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["Webhook-Signature"] == f"v1,{expected}"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
    ],
)
def test_urls_to_private_loopback_or_link_local_addresses_are_refused(settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.DEBUG = False
    with pytest.raises(webhooks.WebhookUrlRefused):
        webhooks.url_check(url)


def test_loopback_is_allowed_only_by_the_setting(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    assert webhooks.url_check("http://127.0.0.1:9/x")
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.WebhookUrlRefused):
        webhooks.url_check("https://127.0.0.1:9/x")


def test_a_top_up_sends_a_signed_transaction_applied_event(
    reseller_api, endpoint, receiver, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = reseller_api.post(
            "/customers/1001/transactions",
            {"amount": "4"},
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
    assert response.status_code == 201
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    assert verify(endpoint.secret, headers, body)
    event = json.loads(body)
    assert event["type"] == "transaction.applied"
    assert event["data"]["id"] == response.json()["id"]
    assert event["data"]["account"] == "1001"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status) == ("delivered", 200)


def test_a_lock_through_the_api_sends_customer_locked(
    reseller_api, endpoint, receiver, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reseller_api.patch("/customers/1002", {"locked": True})
    assert [json.loads(b)["type"] for _h, b in receiver.requests] == ["customer.locked"]


def test_another_resellers_events_never_reach_this_endpoint(world, endpoint):
    from telephony.models import VosAccount

    ids = webhooks.account_event_emit(
        vos_account=VosAccount.objects.get(account="2001"), event="customer.locked", data={}
    )
    assert ids == []


def test_a_failing_delivery_is_retried_with_backoff_then_delivered(
    world, endpoint, receiver, celery_eager
):
    receiver.status = 500
    [delivery_id] = webhooks.event_emit(
        owner_ids=[world.reseller.pk], event="customer.created", data={"account": "1"}
    )
    webhook_deliver.apply(args=(delivery_id,), throw=True)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=3)
    # Not due yet: running the task again sends nothing.
    webhook_deliver.apply(args=(delivery_id,), throw=True)
    assert len(receiver.requests) == 1
    receiver.status = 204
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhooks_due.apply(throw=True).get() == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 204)
    # Delivered: a duplicate task sends nothing more.
    webhook_deliver.apply(args=(delivery_id,), throw=True)
    assert len(receiver.requests) == 2


def test_a_delivery_gives_up_after_a_day_and_the_endpoint_is_disabled_with_an_email(
    world, endpoint, receiver, celery_eager, django_capture_on_commit_callbacks
):
    world.reseller.email = "reseller@example.com"
    world.reseller.save()
    receiver.status = 503
    [delivery_id] = webhooks.event_emit(
        owner_ids=[world.reseller.pk], event="customer.created", data={}
    )
    day_ago = timezone.now() - timedelta(hours=25)
    WebhookDelivery.objects.update(created_at=day_ago)
    WebhookEndpoint.objects.update(failing_since=day_ago)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.delivery_send(delivery_id=delivery_id)
    delivery = WebhookDelivery.objects.get()
    endpoint.refresh_from_db()
    assert delivery.state == "failed"
    assert endpoint.enabled is False and endpoint.disabled_at
    assert mail.outbox and "disabled" in mail.outbox[0].subject
    assert (
        webhooks.event_emit(owner_ids=[world.reseller.pk], event="customer.created", data={}) == []
    )


def test_webhook_endpoints_through_the_api_and_a_test_event(reseller_api, other_api, receiver):
    created = reseller_api.post(
        "/webhooks", {"url": receiver.url, "events": ["transaction.applied"]}
    )
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    pk = created.json()["id"]
    assert "secret" not in reseller_api.get("/webhooks").json()[0]
    sent = reseller_api.post(f"/webhooks/{pk}/test")
    assert sent.json()["state"] == "delivered"
    headers, body = receiver.requests[0]
    assert verify(secret, headers, body)
    log = reseller_api.get(f"/webhooks/{pk}/deliveries").json()["items"]
    assert log[0]["last_status"] == 200
    assert other_api.get(f"/webhooks/{pk}/deliveries").status_code == 404
    assert other_api.delete(f"/webhooks/{pk}").status_code == 404
    bad = reseller_api.post("/webhooks", {"url": receiver.url, "events": ["nope"]})
    assert bad.status_code == 422
