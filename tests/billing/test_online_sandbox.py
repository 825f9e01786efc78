"""The test gateway of `make run` (DEBUG, no provider): the whole flow in the portal itself,
its notifications signed and verified exactly as Stripe's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import LedgerEntry, OnlinePayment, PaymentNotification
from billing.services.gateways import gateway
from tests.billing.factories import demo_world
from tests.billing.online_support import TOPUP, portal_pays

pytest_plugins = ["tests.billing.online_fixtures"]


@pytest.fixture
def world(db, vos_server, vos_client, settings):
    settings.ONLINE_PAYMENTS_PROVIDER = "test"
    return demo_world(vos_server, vos_client)


@pytest.fixture
def cust(client, world):
    client.force_login(world.customer)
    return client


def test_a_customer_tops_up_through_the_test_gateway_and_sees_the_new_balance(
    cust, world, vos_emulator, run_tasks, django_capture_on_commit_callbacks
):
    before = vos_emulator.state.balance("1001")
    start = cust.post(TOPUP, {"amount": "12.50"})
    payment = OnlinePayment.objects.get()
    page = reverse("customer:topup_test_gateway", args=[payment.reference])
    assert start.status_code == 303 and start["Location"] == page
    assert "Test payment page" in cust.get(page).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        back = cust.post(page, {"outcome": "pay", "method": "alipay"})
    assert back["Location"] == reverse("customer:topup_return", args=[payment.reference])
    note = PaymentNotification.objects.get()
    assert note.verified and note.outcome == PaymentNotification.Outcome.ACCEPTED
    payment.refresh_from_db()
    assert payment.state == OnlinePayment.State.CREDITED and payment.method == "alipay"

    assert "Paid and credited" in cust.get(back["Location"]).content.decode()
    cust.get(back["Location"])
    cust.post(page, {"outcome": "pay"})  # the test page again: nothing more is paid
    dashboard = cust.get(reverse("customer:dashboard")).content.decode()
    assert len(portal_pays(vos_emulator)) == 1
    assert LedgerEntry.objects.count() == 1
    assert vos_emulator.state.balance("1001") == before + Decimal("12.50")
    assert f"USD {before + Decimal('12.50'):,.2f}" in dashboard


def test_cancelling_on_the_test_gateway_credits_nothing(cust, world, vos_emulator, run_tasks):
    cust.post(TOPUP, {"amount": "12.50"})
    payment = OnlinePayment.objects.get()
    page = reverse("customer:topup_test_gateway", args=[payment.reference])
    back = cust.post(page, {"outcome": "cancel"})
    assert "?cancelled=1" in back["Location"]
    payment.refresh_from_db()
    assert payment.state == OnlinePayment.State.EXPIRED
    assert portal_pays(vos_emulator) == []


def test_the_test_gateway_does_not_exist_with_a_real_provider(cust, world, settings):
    cust.post(TOPUP, {"amount": "12.50"})
    payment = OnlinePayment.objects.get()
    settings.ONLINE_PAYMENTS_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_x", "whsec_x"
    page = reverse("customer:topup_test_gateway", args=[payment.reference])
    assert cust.get(page).status_code == 404


def test_the_test_gateways_secret_is_not_a_configured_one(world, settings):
    assert gateway().webhook_secret.startswith("whsec_")
    assert gateway().webhook_secret != settings.STRIPE_WEBHOOK_SECRET
