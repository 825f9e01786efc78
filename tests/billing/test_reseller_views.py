"""The reseller area through its pages: scope, the top-up flow, bad input, account actions."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog
from billing.models import LedgerEntry
from tests.billing.factories import demo_world
from tests.telephony.factories import CdrFactory


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("500"), cap_per_day=Decimal("600")
    )


@pytest.fixture
def reseller_client(client, world):
    client.force_login(world.reseller)
    return client


def topup_post(client, account="1001", amount="10", *, key=None, confirm=True, **extra):
    data = {
        "account": account,
        "direction": "topup",
        "amount": amount,
        "memo": "",
        "key": key or str(uuid.uuid4()),
        **extra,
    }
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse("reseller:topup"), data)


# --- scope ----------------------------------------------------------------------------------


def test_customers_list_shows_only_the_resellers_own_customers(reseller_client):
    response = reseller_client.get(reverse("reseller:customers"))
    assert response.status_code == 200
    accounts = {c.account for c in response.context["page"]}
    assert accounts == {"1001", "1002", "1003", "1004", "1005", "1006"}


def test_customers_list_searches_filters_and_sorts(reseller_client, world):
    page = reseller_client.get(reverse("reseller:customers"), {"q": "Acme"}).context["page"]
    assert [c.account for c in page] == ["1004"]
    page = reseller_client.get(reverse("reseller:customers"), {"show": "locked"}).context["page"]
    assert [c.account for c in page] == ["1006"]
    page = reseller_client.get(reverse("reseller:customers"), {"sort": "-balance"}).context["page"]
    balances = [c.balance for c in page]
    assert balances == sorted(balances, reverse=True)


def test_running_low_and_gone_quiet_filters(reseller_client, world):
    from telephony.models import VosAccount

    VosAccount.objects.filter(server=world.server).update(balance=Decimal("100"))
    VosAccount.objects.filter(server=world.server, account="1002").update(balance=Decimal("1"))
    # 1003 burns 50 a day: 100 is under three days of it.
    CdrFactory(server=world.server, account="1003", fee=Decimal("350"), hold_time=60)
    CdrFactory(server=world.server, account="1001", fee=Decimal("1"), hold_time=60)

    low = reseller_client.get(reverse("reseller:customers"), {"show": "low"}).context["page"]
    assert {c.account for c in low} == {"1002", "1003"}
    quiet = reseller_client.get(reverse("reseller:customers"), {"show": "quiet"}).context["page"]
    assert {c.account for c in quiet} == {"1002", "1004", "1005", "1006"}


def test_customers_list_costs_the_same_number_of_queries_at_any_size(
    reseller_client, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        reseller_client.get(reverse("reseller:customers"))


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("reseller:customer_detail", "get"),
        ("reseller:customer_lock", "get"),
        ("reseller:customer_lock", "post"),
        ("reseller:customer_limit", "get"),
        ("reseller:customer_limit", "post"),
    ],
)
def test_another_resellers_customer_is_a_404_everywhere(
    reseller_client, vos_emulator, name, method
):
    url = reverse(name, args=["2001"])
    response = getattr(reseller_client, method)(
        url, {"lock": "1", "limit_money": "5", "confirm": "1"}
    )
    assert response.status_code == 404
    assert vos_emulator.calls["ModifyCustomer"] == 0


@pytest.mark.parametrize("account", ["2001", "3001", "agent01", "agent02", "nope"])
def test_topup_of_an_account_outside_scope_is_a_form_error(reseller_client, vos_emulator, account):
    response = topup_post(reseller_client, account=account)
    assert response.status_code == 200
    assert "You have no customer with this account." in response.context["form"].errors["account"]
    assert vos_emulator.calls["Pay"] == 0
    assert not LedgerEntry.objects.exists()


def test_receipt_of_another_resellers_movement_is_a_404(client, world, vos_emulator):
    client.force_login(world.other_reseller)
    topup_post(client, account="2001")
    entry = LedgerEntry.objects.get()
    client.force_login(world.reseller)
    assert client.get(reverse("reseller:receipt", args=[entry.pk])).status_code == 404
    # Nor can the other reseller's form key be replayed to reach it.
    response = topup_post(client, account="1001", key=entry.idempotency_key)
    assert response.status_code == 404
    assert vos_emulator.calls["Pay"] == 1


def test_creating_a_customer_always_uses_the_resellers_own_agent(reseller_client, vos_emulator):
    response = reseller_client.post(
        reverse("reseller:customer_create"),
        {
            "account": "1777",
            "name": "New Shop",
            "limit_money": "0",
            "e164": "8613800001777",
            "web_password": "secret77",
            "email": "",
            "agent_account": "agent02",
            "agentAccount": "agent02",
        },
    )
    assert response.status_code == 302
    assert vos_emulator.state.customers["1777"]["agentAccount"] == "agent01"


@pytest.mark.parametrize(
    "name",
    ["reseller:customers", "reseller:customer_create", "reseller:topup", "reseller:topups"],
)
def test_a_customer_cannot_reach_reseller_pages(client, world, name):
    client.force_login(world.customer)
    assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse(name), {}).status_code == 404


def test_reseller_pages_need_a_login(client, world):
    response = client.get(reverse("reseller:customers"))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- the top-up flow --------------------------------------------------------------------------


def test_topup_form_confirmation_and_receipt(
    reseller_client,
    world,
    vos_emulator,
    mailoutbox,
    django_capture_on_commit_callbacks,
    celery_eager,
):
    world.customer.email = "zhang@example.com"
    world.customer.save()
    form = reseller_client.get(reverse("reseller:topup"), {"account": "1001"})
    key = form.context["form"].initial["key"]
    assert re.search(rf'value="{key}"', form.content.decode())
    before = vos_emulator.state.balance("1001")

    review = topup_post(reseller_client, amount="25.5", key=key, confirm=False, review="1")
    assert review.status_code == 200
    assert "reseller/topup_confirm.html" in [t.name for t in review.templates]
    assert vos_emulator.calls["Pay"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        done = topup_post(reseller_client, amount="25.5", key=key)
    entry = LedgerEntry.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("reseller:receipt", args=[entry.pk])
    assert vos_emulator.state.balance("1001") == before + Decimal("25.5")

    receipt = reseller_client.get(done["Location"])
    assert receipt.status_code == 200
    assert "The switch has confirmed it" in receipt.content.decode()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["zhang@example.com"]
    assert f"portal#{entry.pk}" in mailoutbox[0].body


def test_a_double_submitted_confirmation_pays_once(reseller_client, vos_emulator):
    key = str(uuid.uuid4())
    first = topup_post(reseller_client, key=key)
    second = topup_post(reseller_client, key=key)
    again_review = topup_post(reseller_client, key=key, confirm=False)

    assert first["Location"] == second["Location"] == again_review["Location"]
    assert vos_emulator.calls["Pay"] == 1
    assert LedgerEntry.objects.count() == 1


def test_the_customers_dashboard_shows_the_new_balance(client, world, vos_emulator):
    client.force_login(world.reseller)
    before = world.account("1001").balance
    topup_post(client, amount="40")
    vos_emulator.faults.error_rate = 1.0  # the dashboard must not need VOS for it
    client.force_login(world.customer)
    response = client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    assert world.account("1001").balance == before + 40
    if "account" in (response.context or {}):
        assert response.context["account"].balance == before + 40


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "greater than zero"),
        ("-5", "greater than zero"),
        ("1.23456", "no more than 2 decimal places"),
        ("10.005", "no more than 2 decimal places"),
        ("abc", "Enter an amount"),
        ("1e3", "Enter an amount"),
        ("NaN", "Enter an amount"),
        ("", "This field is required"),
        ("501", "most you can move in one transaction"),
    ],
)
def test_bad_amounts_are_form_errors_and_nothing_reaches_vos(
    reseller_client, vos_emulator, amount, message
):
    response = topup_post(reseller_client, amount=amount)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get("amount", []))
    assert message in errors
    assert vos_emulator.calls["Pay"] == 0
    assert not LedgerEntry.objects.exists()


def test_over_the_daily_cap_is_a_form_error(reseller_client, vos_emulator):
    topup_post(reseller_client, amount="500")
    response = topup_post(reseller_client, amount="101")
    assert "daily limit" in " ".join(response.context["form"].errors["amount"])
    assert vos_emulator.calls["Pay"] == 1


def test_a_forged_form_key_is_refused(reseller_client, vos_emulator):
    response = topup_post(reseller_client, key="not-a-uuid")
    assert response.status_code == 200
    assert response.context["form"].errors["key"]
    assert vos_emulator.calls["Pay"] == 0


def test_topups_list_shows_the_resellers_movements(reseller_client, vos_emulator):
    topup_post(reseller_client, amount="3")
    response = reseller_client.get(reverse("reseller:topups"))
    assert response.status_code == 200
    assert len(response.context["page"]) == 1


# --- account actions --------------------------------------------------------------------------


def test_lock_and_unlock_with_confirmation(reseller_client, world, vos_emulator):
    url = reverse("reseller:customer_lock", args=["1002"])
    confirm = reseller_client.get(url)
    assert confirm.status_code == 200 and confirm.context["lock"] is True
    assert vos_emulator.calls["ModifyCustomer"] == 0

    assert reseller_client.post(url, {"lock": "1"}).status_code == 302
    assert vos_emulator.state.customers["1002"]["lockType"] != 0
    assert world.account("1002").locked

    reseller_client.post(url, {"lock": "0"})
    assert vos_emulator.state.customers["1002"]["lockType"] == 0
    assert not world.account("1002").locked
    assert AuditLog.objects.filter(action="customer.lock", outcome="ok").count() == 1
    assert AuditLog.objects.filter(action="customer.unlock", outcome="ok").count() == 1


def test_overdraft_limit_change_needs_confirmation(reseller_client, world, vos_emulator):
    url = reverse("reseller:customer_limit", args=["1002"])
    review = reseller_client.post(url, {"limit_money": "30"})
    assert review.context["confirming"]
    assert vos_emulator.calls["ModifyCustomer"] == 0

    done = reseller_client.post(url, {"limit_money": "30", "confirm": "1"})
    assert done.status_code == 302
    assert vos_emulator.state.customers["1002"]["limitMoney"] == Decimal("30")
    assert world.account("1002").limit_money == Decimal("30")


def test_a_vos_outage_on_lock_is_a_notice_not_a_500(reseller_client, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    response = reseller_client.post(reverse("reseller:customer_lock", args=["1002"]), {"lock": "1"})
    assert response.status_code == 200
    assert "not answering" in response.content.decode()


def test_customer_detail_shows_figures_calls_and_movements(reseller_client, world):
    CdrFactory(server=world.server, account="1001", fee=Decimal("0.5"))
    topup_post(reseller_client, amount="2")
    response = reseller_client.get(reverse("reseller:customer_detail", args=["1001"]))
    assert response.status_code == 200
    assert len(response.context["calls"]) == 1
    assert len(response.context["movements"]) == 1


def test_create_customer_makes_account_phone_and_invitation(
    reseller_client, world, vos_emulator, mailoutbox
):
    from accounts.models import Invitation

    response = reseller_client.post(
        reverse("reseller:customer_create"),
        {
            "account": "1888",
            "name": "Corner Shop",
            "limit_money": "10",
            "e164": "8613800001888",
            "web_password": "secret88",
            "email": "shop@example.com",
        },
    )
    assert response.status_code == 302
    assert vos_emulator.state.customers["1888"]["agentAccount"] == "agent01"
    assert "8613800001888" in vos_emulator.state.phones
    assert world.account("1888").agent_account == "agent01"
    assert Invitation.objects.filter(email="shop@example.com", vos_account__account="1888").exists()


def test_create_customer_with_an_existing_account_is_a_form_error(reseller_client, vos_emulator):
    response = reseller_client.post(
        reverse("reseller:customer_create"),
        {
            "account": "2001",
            "name": "x",
            "limit_money": "0",
            "e164": "8613800009999",
            "web_password": "secret99",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["account"]
    assert vos_emulator.calls["CreateCustomer"] == 0


def test_create_customer_sends_the_validity_the_reseller_chose(
    reseller_client, world, vos_emulator
):
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    form = reseller_client.get(reverse("reseller:customer_create")).content.decode()
    assert 'name="valid_until"' in form
    last_day = date.today() + timedelta(days=90)
    response = reseller_client.post(
        reverse("reseller:customer_create"),
        {
            "account": "1889",
            "limit_money": "0",
            "e164": "8613800001889",
            "web_password": "secret89",
            "valid_until": last_day.isoformat(),
        },
    )
    assert response.status_code == 302
    zone = ZoneInfo(world.server.time_zone)
    ends = datetime.combine(last_day, datetime.max.time().replace(microsecond=0), tzinfo=zone)
    assert vos_emulator.state.customers["1889"]["validTime"] == int(ends.timestamp() * 1000)
    assert world.account("1889").valid_until.astimezone(zone).date() == last_day
    detail = reseller_client.get(reverse("reseller:customer_detail", args=["1889"]))
    assert last_day.isoformat() in detail.content.decode()


def test_a_validity_in_the_past_is_a_form_error_and_nothing_is_sent(reseller_client, vos_emulator):
    response = reseller_client.post(
        reverse("reseller:customer_create"),
        {
            "account": "1890",
            "limit_money": "0",
            "e164": "8613800001890",
            "web_password": "secret90",
            "valid_until": "2020-01-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["valid_until"]
    assert vos_emulator.calls["CreateCustomer"] == 0
