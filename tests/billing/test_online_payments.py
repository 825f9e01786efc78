"""Online top-ups with the stripe provider: credited exactly once, from a verified notification.

The switch is the emulator over HTTP; Stripe's API is shaped with `responses`; notifications
are signed in the test with Stripe's scheme and the configured webhook secret.
"""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from django.urls import reverse

from billing import tasks
from billing.models import LedgerEntry, OnlinePayment, PaymentNotification
from billing.services import online
from tests.billing.factories import demo_world
from tests.billing.online_support import (
    TOPUP,
    deliver,
    portal_pays,
    session_event,
    start_payment,
    stripe_signature,
)

pytest_plugins = ["tests.billing.online_fixtures"]

Outcome = PaymentNotification.Outcome
PState = OnlinePayment.State


@pytest.fixture
def world(db, vos_server, vos_client, stripe_portal):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def cust(client, world):
    client.force_login(world.customer)
    return client


def test_checkout_is_opened_on_stripe_with_our_amount_currency_and_reference(cust, world):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            "https://api.stripe.com/v1/checkout/sessions",
            json={"id": "cs_test_1", "object": "checkout.session", "url": "https://pay.example/1"},
        )
        response = cust.post(TOPUP, {"amount": "25.50"})
        sent = parse_qs(rsps.calls[0].request.body)
        headers = rsps.calls[0].request.headers

    payment = OnlinePayment.objects.get()
    assert response.status_code == 303 and response["Location"] == "https://pay.example/1"
    assert payment.state == PState.OPEN and payment.amount == Decimal("25.50")
    assert payment.gateway_id == "cs_test_1" and payment.account == "1001"
    assert sent["line_items[0][price_data][unit_amount]"] == ["2550"]
    assert sent["line_items[0][price_data][currency]"] == ["usd"]
    assert sent["client_reference_id"] == [str(payment.reference)]
    assert sent["payment_method_types[0]"] == ["card"]
    assert sent["payment_method_types[1]"] == ["alipay"]
    assert sent["payment_method_types[2]"] == ["wechat_pay"]
    assert headers["Idempotency-Key"] == f"checkout-{payment.reference}"
    assert headers["Authorization"] == "Bearer sk_test_portal_unit"
    assert LedgerEntry.objects.count() == 0


def test_a_preset_amount_can_be_chosen(cust, world):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            "https://api.stripe.com/v1/checkout/sessions",
            json={"id": "cs_test_2", "url": "https://pay.example/2"},
        )
        cust.post(TOPUP, {"preset": "20"})
    assert OnlinePayment.objects.get().amount == Decimal("20")


def test_stripe_refusing_the_checkout_is_a_form_error_and_nothing_is_charged(cust, world):
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.POST,
            "https://api.stripe.com/v1/checkout/sessions",
            status=400,
            json={"error": {"type": "invalid_request_error", "message": "bad currency"}},
        )
        response = cust.post(TOPUP, {"amount": "25"})
    assert response.status_code == 200
    assert "could not be opened" in response.content.decode()
    assert OnlinePayment.objects.get().state == PState.FAILED


@pytest.mark.parametrize(
    ("amount", "error"),
    [("4.99", "from USD 5.00 to USD 500.00"), ("501", "from USD 5.00 to USD 500.00")],
)
def test_amounts_outside_the_limits_are_refused_before_the_gateway(cust, world, amount, error):
    response = cust.post(TOPUP, {"amount": amount})  # no `responses`: nothing may be sent
    assert error in response.content.decode()
    assert OnlinePayment.objects.count() == 0


def test_the_daily_limit_counts_open_and_paid_payments(cust, world, settings):
    settings.ONLINE_PAYMENTS_DAILY_LIMIT = "60"
    start_payment(cust, "50", session_id="cs_a")
    response = cust.post(TOPUP, {"amount": "20"})
    assert "USD 10.00 is left today" in response.content.decode()
    assert OnlinePayment.objects.count() == 1


def test_a_verified_notification_delivered_five_times_credits_once(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    before = vos_emulator.state.balance("1001")
    payment = start_payment(cust, "25")
    payload = session_event(payment)

    with django_capture_on_commit_callbacks(execute=True):
        answers = [deliver(cust, payload).status_code for _ in range(5)]

    assert answers == [200] * 5
    assert [name for name, _ in run_tasks].count("billing.tasks.online_credit") == 5
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ONLINE).count() == 1
    assert len(portal_pays(vos_emulator)) == 1
    assert vos_emulator.state.balance("1001") == before + 25
    payment.refresh_from_db()
    assert payment.state == PState.CREDITED
    outcomes = sorted(PaymentNotification.objects.values_list("outcome", flat=True))
    assert outcomes == [Outcome.ACCEPTED] + [Outcome.DUPLICATE] * 4
    # The dashboard shows the balance the switch reported.
    assert world.account("1001").balance == before + 25


def test_out_of_order_notifications_still_credit_once(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    payment = start_payment(cust, "30")
    with django_capture_on_commit_callbacks(execute=True):
        # The late "async succeeded", the "completed" and a stale "expired", any order.
        deliver(cust, session_event(payment, event_type="checkout.session.async_payment_succeeded"))
        deliver(cust, session_event(payment, event_type="checkout.session.expired"))
        deliver(cust, session_event(payment))
    payment.refresh_from_db()
    assert payment.state == PState.CREDITED
    assert len(portal_pays(vos_emulator)) == 1


def test_a_completed_session_not_yet_paid_credits_nothing(cust, world, vos_emulator, run_tasks):
    payment = start_payment(cust, "30")
    response = deliver(cust, session_event(payment, payment_status="unpaid"))
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.state == PState.OPEN
    assert PaymentNotification.objects.get().outcome == Outcome.NOT_PAID
    assert portal_pays(vos_emulator) == []


@pytest.mark.parametrize(
    ("tamper", "outcome", "status"),
    [
        ({"secret": "whsec_someone_else"}, Outcome.BAD_SIGNATURE, 400),
        ({"signature": ""}, Outcome.BAD_SIGNATURE, 400),
        ({"signature": "t=1,v1=00"}, Outcome.BAD_SIGNATURE, 400),
        ({"amount_total": 2400}, Outcome.BAD_AMOUNT, 200),
        ({"currency": "eur"}, Outcome.BAD_CURRENCY, 200),
        ({"reference": "8c2f4f6e-0000-4000-8000-000000000000"}, Outcome.UNKNOWN_PAYMENT, 200),
        ({"reference": "not-a-uuid"}, Outcome.UNKNOWN_PAYMENT, 200),
    ],
)
def test_a_bad_notification_is_refused_logged_and_credits_nothing(
    cust, world, vos_emulator, run_tasks, caplog, tamper, outcome, status
):
    payment = start_payment(cust, "25")
    fields = {k: v for k, v in tamper.items() if k in ("amount_total", "currency", "reference")}
    delivery = {k: v for k, v in tamper.items() if k in ("secret", "signature")}
    response = deliver(cust, session_event(payment, **fields), **delivery)

    assert response.status_code == status
    note = PaymentNotification.objects.get()
    assert note.outcome == outcome
    assert note.verified is (outcome != Outcome.BAD_SIGNATURE)
    assert "refused" in caplog.text
    payment.refresh_from_db()
    assert payment.state == PState.OPEN
    assert LedgerEntry.objects.count() == 0 and run_tasks == []
    assert portal_pays(vos_emulator) == []


def test_a_tampered_body_with_a_once_valid_signature_is_refused(cust, world, run_tasks):
    payment = start_payment(cust, "25")
    genuine = json.dumps(session_event(payment, amount_total=500))
    header = stripe_signature(genuine)
    forged = genuine.replace('"amount_total": 500', '"amount_total": 2500')
    response = cust.post(
        reverse("online:webhook", args=["stripe"]),
        data=forged,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400
    assert PaymentNotification.objects.get().outcome == Outcome.BAD_SIGNATURE


def test_a_replayed_notification_older_than_five_minutes_is_refused(cust, world, run_tasks):
    import time

    payment = start_payment(cust, "25")
    body = json.dumps(session_event(payment))
    old = stripe_signature(body, at=int(time.time()) - 600)
    response = cust.post(
        reverse("online:webhook", args=["stripe"]),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=old,
    )
    assert response.status_code == 400
    assert LedgerEntry.objects.count() == 0


def test_the_redirect_before_the_notification_says_confirming_and_credits_nothing(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    payment = start_payment(cust, "25")
    page = reverse("customer:topup_return", args=[payment.reference])

    early = cust.get(page).content.decode()
    assert "Confirming your payment" in early
    assert '<meta http-equiv="refresh" content="3">' in early
    assert portal_pays(vos_emulator) == [] and LedgerEntry.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(payment))
    late = cust.get(page).content.decode()
    assert "Paid and credited" in late and 'http-equiv="refresh"' not in late
    for _ in range(3):  # reloading the receipt pays nothing more
        cust.get(page)
    assert len(portal_pays(vos_emulator)) == 1


def test_the_redirect_after_the_notification_shows_the_receipt(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    payment = start_payment(cust, "25")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(payment))
    html = cust.get(reverse("customer:topup_return", args=[payment.reference])).content.decode()
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ONLINE)
    assert "Paid and credited" in html and "USD 25.00" in html
    assert entry.balance_after is not None
    assert len(portal_pays(vos_emulator)) == 1


def test_a_lost_pay_answer_is_reconciled_and_never_resent(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    before = vos_emulator.state.balance("1001")
    payment = start_payment(cust, "25")
    vos_emulator.faults.drop_after_pay_rate = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(payment))
    vos_emulator.faults.drop_after_pay_rate = 0.0
    tasks.online_credit.apply(args=(payment.pk,), throw=True)  # a retry, a second worker
    tasks.online_sweep.apply(throw=True)

    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.ONLINE)
    assert entry.state == LedgerEntry.State.APPLIED and entry.vos_record_key
    assert vos_emulator.calls["Pay"] == 1
    assert vos_emulator.state.balance("1001") == before + 25
    payment.refresh_from_db()
    assert payment.state == PState.CREDITED


def test_a_credit_task_lost_with_its_worker_is_done_by_the_sweep(cust, world, vos_emulator):
    from datetime import timedelta

    from django.utils import timezone

    payment = start_payment(cust, "25")
    # The notification was accepted but the queued task died with its worker.
    deliver(cust, session_event(payment))  # on_commit never runs here: no task queued
    assert OnlinePayment.objects.get(pk=payment.pk).state == PState.PAID
    OnlinePayment.objects.filter(pk=payment.pk).update(
        paid_at=timezone.now() - timedelta(minutes=5)
    )

    assert tasks.online_sweep.apply(throw=True).get() == 1
    tasks.online_sweep.apply(throw=True)
    assert OnlinePayment.objects.get(pk=payment.pk).state == PState.CREDITED
    assert len(portal_pays(vos_emulator)) == 1


def test_a_credit_row_written_but_never_sent_is_sent_later_not_failed(cust, world, vos_emulator):
    from datetime import timedelta

    from django.utils import timezone

    from billing.services import transfers

    payment = start_payment(cust, "25")
    deliver(cust, session_event(payment))
    entry = online._credit_row(OnlinePayment.objects.get(pk=payment.pk))  # then the crash
    old = timezone.now() - timedelta(minutes=10)
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=old)
    OnlinePayment.objects.filter(pk=payment.pk).update(paid_at=old)

    transfers.ledger_sweep()  # would fail an abandoned reseller top-up; not this one
    assert LedgerEntry.objects.get(pk=entry.pk).state == LedgerEntry.State.PENDING
    online.online_sweep()
    assert LedgerEntry.objects.get(pk=entry.pk).state == LedgerEntry.State.APPLIED
    assert len(portal_pays(vos_emulator)) == 1


def test_the_receipt_email_is_sent_once(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    world.customer.email = "zw@example.com"
    world.customer.save()
    payment = start_payment(cust, "25")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(payment))
    tasks.online_receipt_email.apply(args=(payment.pk,), throw=True)  # run twice
    assert len(mailoutbox) == 1
    assert "25.00" in mailoutbox[0].subject
    assert str(payment.reference) in mailoutbox[0].body


def test_the_payments_page_lists_online_payments_with_their_state(
    cust, world, run_tasks, django_capture_on_commit_callbacks
):
    paid = start_payment(cust, "25", session_id="cs_paid")
    start_payment(cust, "40", session_id="cs_open")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(cust, session_event(paid))
    html = cust.get(reverse("customer:payments")).content.decode()
    assert "Online payments" in html
    assert 'data-state="credited"' in html and 'data-state="open"' in html
    assert "USD 40.00" in html


def test_another_customers_payment_is_not_found(cust, world, client):
    from tests.accounts.factories import CustomerFactory

    payment = start_payment(cust, "25")
    other = CustomerFactory(vos_account=world.account("1002"))
    client.force_login(other)
    page = reverse("customer:topup_return", args=[payment.reference])
    assert client.get(page).status_code == 404
    assert client.get(reverse("customer:payments")).content.decode().count("cs_") == 0
    assert (
        str(payment.reference)[:8] not in client.get(reverse("customer:payments")).content.decode()
    )


def test_the_webhook_needs_no_csrf_token_but_is_rate_limited(world, settings, client):
    from django.test import Client

    settings.ONLINE_WEBHOOK_RATE = 3
    strict = Client(enforce_csrf_checks=True)
    url = reverse("online:webhook", args=["stripe"])
    answers = [
        strict.post(url, data="{}", content_type="application/json").status_code for _ in range(4)
    ]
    assert answers == [400, 400, 400, 429]
    assert strict.get(reverse("online:webhook", args=["stripe"])).status_code in (405, 429)


def test_the_webhook_of_a_provider_not_configured_is_not_found(world, client):
    url = reverse("online:webhook", args=["paypal"])
    assert client.post(url, data="{}", content_type="application/json").status_code == 404


def test_with_no_provider_the_page_says_how_to_top_up_instead(cust, world, settings):
    settings.ONLINE_PAYMENTS_PROVIDER = ""
    settings.ONLINE_PAYMENTS_OFF_TEXT = "Pay at the counter, 9-17."
    html = cust.get(TOPUP).content.decode()
    assert "Pay at the counter, 9-17." in html and 'name="amount"' not in html
    assert cust.post(TOPUP, {"amount": "25"}).status_code == 200
    assert OnlinePayment.objects.count() == 0
