"""Deductions: never below minus the overdraft limit unless allowed, daily caps, prepaid gains."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog, Profile
from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry
from billing.services import ledger, topups
from tests.billing.factories import LedgerEntryFactory, demo_world

State = LedgerEntry.State


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("100000"), cap_per_day=Decimal("1e6")
    )


def set_funds(emulator, account: str, *, money: str, limit: str = "0") -> None:
    emulator.state.customers[account]["money"] = Decimal(money)
    emulator.state.customers[account]["limitMoney"] = Decimal(limit)


def deduct(world, account: str, amount: str, *, allow_negative: bool = False, user=None):
    user = user or world.reseller
    return topups.topup_submit(
        actor=Actor(user=user, ip="192.0.2.7"),
        agent=reseller_agent(user),
        movement=topups.TopupRequest(
            customer=world.account(account),
            amount=Decimal(amount),
            deduct=True,
            memo="",
            idempotency_key=str(uuid.uuid4()),
            allow_negative=allow_negative,
        ),
    )


def allow_negative(world, allowed: bool = True) -> None:
    Profile.objects.filter(user=world.reseller).update(allow_negative_balance=allowed)
    world.reseller.refresh_from_db()


def test_a_deduction_below_minus_the_overdraft_limit_is_refused(world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23")
    with pytest.raises(ledger.LedgerError) as refused:
        deduct(world, "1005", "50")
    assert refused.value.field == "amount"
    assert "below the overdraft limit" in refused.value.message
    assert "USD 8.23" in refused.value.message  # the most that can be taken
    assert vos_emulator.calls["Pay"] == 0
    assert not LedgerEntry.objects.exists()
    assert AuditLog.objects.filter(action="deduct.refused", outcome="refused").exists()
    assert vos_emulator.state.balance("1005") == Decimal("8.23")


def test_a_deduction_may_use_the_overdraft_limit_and_no_more(world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23", limit="10")
    entry = deduct(world, "1005", "18.23")
    assert entry.state == State.APPLIED
    assert vos_emulator.state.balance("1005") == Decimal("-10")
    with pytest.raises(ledger.LedgerError):
        deduct(world, "1005", "0.01")
    assert vos_emulator.calls["Pay"] == 1


def test_open_deductions_count_against_the_balance_read_before_them(world, vos_emulator):
    set_funds(vos_emulator, "1005", money="20")
    # A deduction whose outcome is not known yet: the switch may not show it.
    LedgerEntryFactory(
        server=world.server, account="1005", amount=Decimal("-15"), kind="deduct", state="unknown"
    )
    with pytest.raises(ledger.LedgerError):
        deduct(world, "1005", "10")
    assert deduct(world, "1005", "5").state == State.APPLIED


def test_allow_negative_needs_the_staff_flag(world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23")
    with pytest.raises(ledger.LedgerError) as refused:
        deduct(world, "1005", "50", allow_negative=True)
    assert refused.value.field == "allow_negative"
    assert vos_emulator.calls["Pay"] == 0

    allow_negative(world)
    entry = deduct(world, "1005", "50", allow_negative=True)
    assert entry.state == State.APPLIED
    assert vos_emulator.state.balance("1005") == Decimal("-41.77")


def test_with_the_flag_a_deduction_still_needs_the_explicit_tick(world, vos_emulator):
    allow_negative(world)
    set_funds(vos_emulator, "1005", money="8.23")
    with pytest.raises(ledger.LedgerError):
        deduct(world, "1005", "50")
    assert vos_emulator.calls["Pay"] == 0


def test_an_unreadable_customer_balance_refuses_the_deduction(world, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    with pytest.raises(ledger.LedgerError) as refused:
        deduct(world, "1001", "1")
    assert "cannot be checked right now" in refused.value.message
    assert vos_emulator.calls["Pay"] == 0
    assert AuditLog.objects.filter(action="deduct.refused", outcome="vos_unavailable").exists()


def test_a_garbled_customer_balance_refuses_the_deduction(world, vos_emulator):
    vos_emulator.faults.garbage_mode = "html"
    vos_emulator.faults.garbage_rate = 1.0
    with pytest.raises(ledger.LedgerError):
        deduct(world, "1001", "1")
    assert not LedgerEntry.objects.exists()


def test_deductions_count_towards_the_daily_cap(vos_server, vos_client, vos_emulator):
    world = demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("100"), cap_per_day=Decimal("150")
    )
    set_funds(vos_emulator, "1004", money="1000")
    deduct(world, "1004", "100")
    with pytest.raises(ledger.LedgerError) as refused:
        deduct(world, "1004", "60")
    assert "daily limit" in refused.value.message
    with pytest.raises(ledger.LedgerError):
        topups.topup_caps_check(
            profile=world.reseller.profile, agent=reseller_agent(world.reseller), amount=Decimal(51)
        )
    deduct(world, "1004", "50")
    assert vos_emulator.calls["Pay"] == 2


def test_a_prepaid_reseller_never_gains_more_than_the_customer_had(
    vos_server, vos_client, vos_emulator
):
    world = demo_world(
        vos_server,
        vos_client,
        prepaid=True,
        cap_per_transaction=Decimal("100000"),
        cap_per_day=Decimal("100000"),
    )
    allow_negative(world)  # even a reseller allowed negative balances
    set_funds(vos_emulator, "1003", money="-100", limit="100")  # 1003 is at the bottom, in debt
    own = vos_emulator.state.balance("agent01")
    with pytest.raises(ledger.LedgerError) as refused:
        deduct(world, "1003", "1000", allow_negative=True)
    assert "prepaid reseller cannot take more" in refused.value.message
    assert vos_emulator.state.balance("agent01") == own

    set_funds(vos_emulator, "1005", money="30", limit="5")
    entry = deduct(world, "1005", "35")
    assert entry.state == State.APPLIED
    assert vos_emulator.state.balance("agent01") == own + 35
    with pytest.raises(ledger.LedgerError):
        deduct(world, "1005", "0.01", allow_negative=True)


# --- the pages ------------------------------------------------------------------------------


def post(client, *, amount: str, direction="deduct", confirm=False, key=None, **extra):
    data = {
        "account": "1005",
        "direction": direction,
        "amount": amount,
        "memo": "",
        "key": key or str(uuid.uuid4()),
        **extra,
    }
    if confirm:
        data["confirm"] = "1"
    return client.post(reverse("reseller:topup"), data)


def test_the_confirm_step_shows_the_balance_before_and_after(client, world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23", limit="10")
    client.force_login(world.reseller)
    page = post(client, amount="5.5")
    html = page.content.decode()
    assert "reseller/topup_confirm.html" in [t.name for t in page.templates]
    assert page.context["preview"].balance_before == Decimal("8.23")
    assert page.context["preview"].balance_after == Decimal("2.73")
    assert 'data-figure="before">USD 8.23' in html
    assert "USD 2.73" in html
    # A deduction looks different from a top-up.
    assert "button-danger" in html and "card-deduct" in html
    topup = post(client, amount="5.5", direction="topup").content.decode()
    assert "button-danger" not in topup and "USD 13.73" in topup


def test_the_confirm_step_refuses_a_deduction_below_the_limit(client, world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23")
    client.force_login(world.reseller)
    page = post(client, amount="50")
    assert "reseller/topup_form.html" in [t.name for t in page.templates]
    assert "below the overdraft limit" in " ".join(page.context["form"].errors["amount"])
    assert "allow_negative" not in page.context["form"].fields


def test_a_forged_allow_negative_tick_is_ignored_without_the_flag(client, world, vos_emulator):
    set_funds(vos_emulator, "1005", money="8.23")
    client.force_login(world.reseller)
    page = post(client, amount="50", confirm=True, allow_negative="on")
    assert page.status_code == 200
    assert vos_emulator.calls["Pay"] == 0


def test_a_reseller_staff_allowed_can_tick_allow_negative(client, world, vos_emulator):
    allow_negative(world)
    set_funds(vos_emulator, "1005", money="8.23")
    client.force_login(world.reseller)
    key = str(uuid.uuid4())
    review = post(client, amount="50", key=key, allow_negative="on")
    assert "-USD 41.77" in review.content.decode()
    done = post(client, amount="50", key=key, allow_negative="True", confirm=True)
    assert done.status_code == 302
    assert vos_emulator.state.balance("1005") == Decimal("-41.77")


def test_the_amount_field_shows_the_caps(client, world):
    client.force_login(world.reseller)
    html = client.get(reverse("reseller:topup")).content.decode()
    assert "At most USD 100,000.00 in one transaction" in html


def test_confirm_and_receipt_show_exactly_what_the_switch_got(client, world, vos_emulator):
    client.force_login(world.reseller)
    key = str(uuid.uuid4())
    review = post(client, amount="10.01", direction="topup", key=key).content.decode()
    assert "+USD 10.01" in review
    assert post(client, amount="10.005", direction="topup").context["form"].errors["amount"]
    done = post(client, amount="10.01", direction="topup", key=key, confirm=True)
    entry = LedgerEntry.objects.get()
    got = [r for r in vos_emulator.state.pay_history if r.get("memo", "").startswith("portal#")]
    assert Decimal(str(got[-1]["fee"])) == entry.amount == Decimal("10.01")
    assert "USD 10.01" in client.get(done["Location"]).content.decode()
