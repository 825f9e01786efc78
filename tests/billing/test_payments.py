from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing.models import PayRecord
from billing.selectors import payments_for
from tests.portal.factories import PayRecordFactory, mirror_from_emulator

pytest_plugins = ["tests.portal.fixtures"]

PAYMENTS = reverse("customer:payments")


@pytest.mark.django_db
def test_payments_list_type_amount_balance_after_and_time(customer_client, offline_account):
    money = {"server": offline_account.server, "account": "1001"}
    PayRecordFactory(**money, amount=Decimal("1234.5"), balance_after=Decimal("1300"))
    PayRecordFactory(
        **money,
        amount=Decimal("-20"),
        type=PayRecord.Type.PAYMENT,
        balance_after=Decimal("65.5"),
        paid_at=timezone.now() - timedelta(days=1),
    )
    PayRecordFactory(
        **money,
        amount=Decimal("0"),
        type=PayRecord.Type.CREATE_ACCOUNT,
        pay_type=PayRecord.PayType.OTHER,
        paid_at=timezone.now() - timedelta(days=9),
    )
    html = customer_client.get(PAYMENTS).content.decode()
    assert "+USD 1,234.50" in html and "USD 1,300.00" in html
    assert "-USD 20.00" in html
    assert "Account created" in html and "Other" in html
    assert html.index("1,234.50") < html.index("-USD 20.00") < html.index("Account created")


@pytest.mark.django_db
def test_payments_are_paginated(customer_client, offline_account):
    now = timezone.now()
    for i in range(30):
        PayRecordFactory(
            server=offline_account.server, account="1001", paid_at=now - timedelta(hours=i)
        )
    first = customer_client.get(PAYMENTS)
    assert len(first.context["payments"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert len(customer_client.get(PAYMENTS, {"page": 2}).context["payments"]) == 5


@pytest.mark.django_db
def test_payments_match_the_emulators_pay_history(emu_client, vos_emulator, vos_server):
    account = mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    expected = [r for r in vos_emulator.state.pay_history if r["account"] == "1001"]
    assert payments_for(account).count() == len(expected) > 0
    newest = max(expected, key=lambda r: r["payTime"])
    shown = emu_client.get(PAYMENTS).context["payments"][0]
    assert shown.amount == Decimal(str(newest["fee"]))
    assert shown.balance_after == Decimal(str(newest["customerMoney"]))


@pytest.mark.django_db
def test_payments_partial_renders_on_its_own(offline_account):
    PayRecordFactory(server=offline_account.server, account="1001", amount=Decimal("5"))
    html = render_to_string(
        "billing/_payments_table.html", {"payments": payments_for(offline_account)}
    )
    assert "+USD 5.00" in html and "Payment" in html


@pytest.mark.django_db
def test_payments_page_query_count_is_constant(
    customer_client, offline_account, django_assert_max_num_queries
):
    for _ in range(30):
        PayRecordFactory(server=offline_account.server, account="1001")
    # Session, user, profile, account, records, count, sync time, the ledger rows awaiting
    # the switch's record, online payments: none grows with the number of records.
    with django_assert_max_num_queries(10):  # incl. "owes a second factor?"
        customer_client.get(PAYMENTS)
