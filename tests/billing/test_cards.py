"""Calling-card top-ups against the emulator over HTTP: the page, the ledger, lost answers,
guessing, scope."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog
from accounts.services.audit import Actor
from billing.models import CardThrottle, LedgerEntry
from billing.services import card_throttle, transfers
from billing.services.cards import CardRedemption, CardRefused, card_submit
from tests.billing.factories import demo_world

State = LedgerEntry.State


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def customer_client(client, world):
    client.force_login(world.customer)
    return client


def card_post(client, pin="9000000001", password="111111", *, key=None, address="203.0.113.5"):
    return client.post(
        reverse("customer:card_topup"),
        {"pin": pin, "password": password, "key": key or str(uuid.uuid4())},
        REMOTE_ADDR=address,
    )


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


# --- the page ----------------------------------------------------------------------------


def test_a_card_tops_up_the_account_and_the_receipt_and_email_follow(
    customer_client,
    world,
    vos_emulator,
    mailoutbox,
    django_capture_on_commit_callbacks,
    celery_eager,
):
    world.customer.email = "zhang@example.com"
    world.customer.save()
    form = customer_client.get(reverse("customer:card_topup"))
    assert form.status_code == 200
    key = form.context["form"].initial["key"]
    before = vos_emulator.state.balance("1001")

    with django_capture_on_commit_callbacks(execute=True):
        done = card_post(customer_client, "9000 0000-02", "222222", key=key)
    entry = LedgerEntry.objects.get()
    assert done["Location"] == reverse("customer:receipt", args=[entry.pk])
    assert (entry.kind, entry.state, entry.amount) == ("card", State.APPLIED, Decimal("20"))
    assert entry.card_pin == "9000000002"
    assert vos_emulator.state.balance("1001") == before + 20
    assert entry.balance_after == before + 20
    assert world.account("1001").balance == before + 20
    page = customer_client.get(done["Location"]).content.decode()
    assert "The switch has confirmed it" in page
    assert "•••• 0002" in page
    assert "222222" not in page
    assert len(mailoutbox) == 1 and f"portal#{entry.pk}" in mailoutbox[0].body
    record = vos_emulator.state.phone_cards["9000000002"]
    assert record["usedAccount"] == "1001"
    assert AuditLog.objects.filter(action="card.requested", outcome="applied").count() == 1


def test_a_double_submit_is_the_same_row_and_the_card_is_sent_once(customer_client, vos_emulator):
    key = str(uuid.uuid4())
    first = card_post(customer_client, key=key)
    second = card_post(customer_client, key=key)
    assert first["Location"] == second["Location"]
    assert LedgerEntry.objects.count() == 1
    assert vos_emulator.calls["PayByPhoneCard"] == 1


@pytest.mark.parametrize(
    ("pin", "password", "field", "message"),
    [
        ("12ab", "111111", "pin", "4 to 32 digits"),
        ("123", "111111", "pin", "4 to 32 digits"),
        ("1" * 33, "111111", "pin", "4 to 32 digits"),
        ("9000000001", "", "password", "required"),
        ("9000000001", "   ", "password", "password as printed"),
        ("9000000001", "11\x071111", "password", "password as printed"),
    ],
)
def test_malformed_input_is_a_field_error_and_nothing_reaches_the_switch(
    customer_client, vos_emulator, pin, password, field, message
):
    response = card_post(customer_client, pin, password)
    assert response.status_code == 200
    assert any(message in e for e in field_errors(response, field))
    assert vos_emulator.calls["GetPhoneCard"] == 0
    assert vos_emulator.calls["PayByPhoneCard"] == 0
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("pin", "password", "field", "message"),
    [
        ("9000000005", "555555", "pin", "already been used"),
        ("9000000006", "666666", "pin", "expired"),
        ("9999999999", "111111", "pin", "no card with this number"),
        ("9000000001", "000000", "password", "password is wrong"),
    ],
)
def test_a_used_unknown_or_expired_card_or_wrong_password_is_refused_at_its_field(
    customer_client, vos_emulator, pin, password, field, message
):
    before = vos_emulator.state.balance("1001")
    response = card_post(customer_client, pin, password)
    assert response.status_code == 200
    assert any(message in e for e in field_errors(response, field))
    assert not LedgerEntry.objects.exists()
    assert vos_emulator.calls["PayByPhoneCard"] == 0
    assert vos_emulator.state.balance("1001") == before


def test_a_switch_outage_is_a_notice_and_counts_no_failure(customer_client, vos_emulator):
    vos_emulator.faults.update({"garbage_mode": "hang", "hang_seconds": 0})
    started = timezone.now()
    response = card_post(customer_client)
    assert (timezone.now() - started).total_seconds() < 6
    assert response.status_code == 200
    assert "did not answer" in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert set(CardThrottle.objects.values_list("failures", flat=True)) == {0}


# --- guessing ------------------------------------------------------------------------------


def test_guessing_locks_the_user_out_and_staff_can_lift_it(
    customer_client, world, vos_emulator, settings
):
    settings.CARD_MAX_FAILURES = 3
    for _ in range(3):
        card_post(customer_client, password="000000")
    calls = vos_emulator.calls["GetPhoneCard"]
    locked = card_post(customer_client)  # the right password, but locked out
    assert "Too many wrong card numbers" in locked.content.decode()
    assert vos_emulator.calls["GetPhoneCard"] == calls
    assert not LedgerEntry.objects.exists()

    # Another address does not help: the user's own counter holds.
    assert "Too many" in card_post(customer_client, address="198.51.100.7").content.decode()

    staff = Actor(user=None, ip="127.0.0.1")
    card_throttle.card_throttle_lift(
        actor=staff, throttle_ids=list(CardThrottle.objects.values_list("pk", flat=True))
    )
    assert card_post(customer_client).status_code == 302
    assert LedgerEntry.objects.get().state == State.APPLIED
    assert AuditLog.objects.filter(action="card.throttle_lift").count() == 2


def test_an_address_guessing_for_many_users_is_locked_out(world, vos_emulator, settings):
    settings.CARD_MAX_FAILURES = 2
    actor = Actor(user=world.customer, ip="203.0.113.9")
    other = Actor(user=world.reseller, ip="203.0.113.9")
    for who in (actor, other):
        with pytest.raises(CardRefused):
            card_submit(actor=who, redemption=_redemption(world, "9000000001", "bad"))
    with pytest.raises(CardRefused, match="Too many"):
        card_submit(
            actor=Actor(user=world.other_reseller, ip="203.0.113.9"),
            redemption=_redemption(world, "9000000001", "111111"),
        )


def test_the_lock_out_ends_by_itself(world, vos_emulator, settings):
    settings.CARD_MAX_FAILURES = 1
    actor = Actor(user=world.customer, ip="203.0.113.9")
    with pytest.raises(CardRefused, match="password is wrong"):
        card_submit(actor=actor, redemption=_redemption(world, "9000000001", "bad"))
    with pytest.raises(CardRefused, match="Too many"):
        card_submit(actor=actor, redemption=_redemption(world, "9000000001", "111111"))
    CardThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    entry = card_submit(actor=actor, redemption=_redemption(world, "9000000001", "111111"))
    assert entry.state == State.APPLIED


def test_concurrent_guesses_cannot_pass_the_limit(world, settings):
    settings.CARD_MAX_FAILURES = 3
    for _ in range(3):
        card_throttle.card_attempt_reserve(user_id=world.customer.pk, ip="203.0.113.1")
    with pytest.raises(card_throttle.CardLocked):
        card_throttle.card_attempt_reserve(user_id=world.customer.pk, ip="203.0.113.1")
    card_throttle.card_attempt_release(user_id=world.customer.pk, ip="203.0.113.1")
    card_throttle.card_attempt_reserve(user_id=world.customer.pk, ip="203.0.113.1")


# --- lost answers ----------------------------------------------------------------------------


def _redemption(world, pin, password, key=None):
    return CardRedemption(
        customer=world.account("1001"),
        pin=pin,
        password=password,
        idempotency_key=key or str(uuid.uuid4()),
    )


@pytest.mark.parametrize("memo", [True, False])
def test_a_lost_answer_is_reconciled_from_the_pay_history_never_resent(world, vos_emulator, memo):
    vos_emulator.faults.update({"drop_after_pay_rate": 1.0, "pay_history_memo": memo})
    before = vos_emulator.state.balance("1001")
    entry = card_submit(
        actor=Actor(user=world.customer, ip="203.0.113.9"),
        redemption=_redemption(world, "9000000003", "333333"),
    )
    entry.refresh_from_db()
    assert entry.state == State.APPLIED
    assert entry.vos_record_key
    assert vos_emulator.calls["PayByPhoneCard"] == 1
    assert vos_emulator.state.balance("1001") == before + 50


def test_a_lost_answer_falls_back_to_the_card_when_the_history_shows_nothing(
    world, vos_emulator, settings
):
    """A pay-history record that never matches (e.g. a build that books cards otherwise):
    once the window closes, GetPhoneCard tells that this account used the card."""
    settings.LEDGER_RECONCILE_MARGIN_SECONDS = 0
    vos_emulator.faults.update(
        {
            "drop_after_pay_rate": 1.0,
            "garbage_mode": "no_list",
            "garbage_interfaces": "GetPayHistory",
        }
    )
    entry = card_submit(
        actor=Actor(user=world.customer, ip="203.0.113.9"),
        redemption=_redemption(world, "9000000004", "444444"),
    )
    entry.refresh_from_db()
    transfers.ledger_sweep(now=timezone.now() + timedelta(seconds=5))
    entry.refresh_from_db()
    assert entry.state == State.APPLIED
    assert "card used by this account" in entry.error
    assert vos_emulator.calls["PayByPhoneCard"] == 1


def test_a_card_row_nobody_sent_is_failed_and_never_sent_by_the_sweep(world, vos_emulator):
    entry = LedgerEntry.objects.create(
        server=world.server,
        account="1001",
        amount=Decimal("10"),
        kind="card",
        card_pin="9000000001",
        idempotency_key="k",
        created_by=world.customer,
    )
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(hours=1))
    transfers.transfer_advance(entry=entry)
    transfers.ledger_sweep()
    entry.refresh_from_db()
    assert entry.state == State.FAILED
    assert vos_emulator.calls["PayByPhoneCard"] == 0


def test_a_second_row_for_the_same_card_cannot_open(world, vos_emulator):
    vos_emulator.faults.update({"drop_after_pay_rate": 1.0, "garbage_mode": "hang"})
    vos_emulator.faults.update({"garbage_interfaces": "GetPayHistory,PayByPhoneCard"})
    actor = Actor(user=world.customer, ip="203.0.113.9")
    first = card_submit(actor=actor, redemption=_redemption(world, "9000000001", "111111"))
    assert first.state == State.UNKNOWN
    vos_emulator.faults.update({"garbage_mode": "", "drop_after_pay_rate": 0.0})
    with pytest.raises(CardRefused):
        card_submit(actor=actor, redemption=_redemption(world, "9000000001", "111111"))
    assert LedgerEntry.objects.count() == 1
    assert vos_emulator.calls["PayByPhoneCard"] == 1


def test_a_hundred_cards_under_lost_answers_move_exactly_the_applied_rows(
    world, vos_emulator, settings
):
    settings.CARD_MAX_FAILURES = 1000
    settings.LEDGER_RECONCILE_MARGIN_SECONDS = 0
    for n in range(100):
        vos_emulator.add_phone_card(f"77000{n:05d}", f"pw{n}", f"{1 + n % 7}.25")
    vos_emulator.faults.update({"drop_after_pay_rate": 0.3, "seed": 7})
    before = vos_emulator.state.balance("1001")
    actor = Actor(user=world.customer, ip="203.0.113.9")
    for n in range(100):
        key = str(uuid.uuid4())
        redemption = _redemption(world, f"77000{n:05d}", f"pw{n}", key)
        for _ in range(2 if n % 5 == 0 else 1):  # every fifth card submitted twice
            card_submit(actor=actor, redemption=redemption)
    transfers.ledger_sweep(now=timezone.now() + timedelta(seconds=5))

    rows = LedgerEntry.objects.filter(kind="card")
    assert rows.count() == 100
    assert not rows.exclude(state=State.APPLIED).exists()
    applied = sum(rows.values_list("amount", flat=True), Decimal("0"))
    assert vos_emulator.state.balance("1001") - before == applied
    assert vos_emulator.calls["PayByPhoneCard"] == 100
    cards = vos_emulator.state.phone_cards
    assert all(cards[f"77000{n:05d}"]["usedAccount"] == "1001" for n in range(100))


# --- scope -----------------------------------------------------------------------------------


def test_a_customer_cannot_see_another_customers_receipt(client, world, vos_emulator):
    client.force_login(world.customer)
    card_post(client)
    entry = LedgerEntry.objects.get()
    LedgerEntry.objects.filter(pk=entry.pk).update(account="1002")
    assert client.get(reverse("customer:receipt", args=[entry.pk])).status_code == 404
    assert client.post(reverse("customer:receipt", args=[entry.pk])).status_code == 404


def test_a_reseller_cannot_use_the_customer_card_page(client, world):
    client.force_login(world.reseller)
    assert client.get(reverse("customer:card_topup")).status_code == 404


def test_resellers_see_their_customers_card_topups_and_only_theirs(client, world, vos_emulator):
    client.force_login(world.customer)
    card_post(client)
    entry = LedgerEntry.objects.get()
    client.force_login(world.reseller)
    listing = client.get(reverse("reseller:topups")).content.decode()
    assert f"#{entry.pk}" in listing or reverse("reseller:receipt", args=[entry.pk]) in listing
    assert client.get(reverse("reseller:receipt", args=[entry.pk])).status_code == 200
    client.force_login(world.other_reseller)
    assert client.get(reverse("reseller:receipt", args=[entry.pk])).status_code == 404
    other = client.get(reverse("reseller:topups")).content.decode()
    assert reverse("reseller:receipt", args=[entry.pk]) not in other


def test_a_broker_that_is_down_after_the_card_applied_still_shows_the_receipt(
    customer_client, world, vos_emulator, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The money moved and the row is committed: a queue that refuses the receipt e-mail is
    logged, and the customer still sees what the switch got (never a 500)."""
    from kombu.exceptions import OperationalError

    from billing import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in (tasks.receipt_email, tasks.entry_pay_history):
        monkeypatch.setattr(task, "delay", broker_down)
        monkeypatch.setattr(task, "apply_async", broker_down)
    before = vos_emulator.state.balance("1001")
    with django_capture_on_commit_callbacks(execute=True):
        done = card_post(customer_client, "9000000002", "222222")
    entry = LedgerEntry.objects.get()
    assert done.status_code == 302 and entry.state == State.APPLIED
    assert vos_emulator.state.balance("1001") == before + 20
    assert "The switch has confirmed it" in customer_client.get(done["Location"]).content.decode()
    assert "Connection refused" in caplog.text
