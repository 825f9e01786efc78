"""The payment ledger against the emulator: every movement applied exactly once."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from accounts.scoping import reseller_agent
from accounts.services.audit import Actor
from billing.models import LedgerEntry
from billing.services import ledger, reconcile, topups, transfers
from billing.tasks import reconcile_unknown
from tests.billing.factories import demo_world

State = LedgerEntry.State
LATER = timedelta(minutes=10)


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("1000"), cap_per_day=Decimal("1000000")
    )


def submit(
    world,
    account: str,
    amount: str,
    *,
    key: str | None = None,
    deduct: bool = False,
    user=None,
    memo: str = "",
) -> LedgerEntry:
    user = user or world.reseller
    return topups.topup_submit(
        actor=Actor(user=user, ip="192.0.2.7"),
        agent=reseller_agent(user),
        movement=topups.TopupRequest(
            customer=world.account(account),
            amount=Decimal(amount),
            deduct=deduct,
            memo=memo,
            idempotency_key=key or str(uuid.uuid4()),
        ),
    )


def portal_memos(emulator) -> Counter:
    """How many times each ledger id reached VOS (from the emulator's own records)."""
    tags = Counter()
    for record in emulator.state.pay_history:
        memo = record.get("memo") or ""
        if memo.startswith("portal#"):
            tags[int(memo.split()[0].removeprefix("portal#"))] += 1
    return tags


def test_topup_is_applied_once_and_updates_the_mirror(world, vos_emulator):
    before = vos_emulator.state.balance("1001")

    entry = submit(world, "1001", "12.3456", memo="cash at counter")

    assert entry.state == State.APPLIED
    assert vos_emulator.state.balance("1001") == before + Decimal("12.3456")
    assert entry.balance_after == before + Decimal("12.3456")
    assert world.account("1001").balance == entry.balance_after
    assert vos_emulator.calls["Pay"] == 1
    assert portal_memos(vos_emulator) == {entry.pk: 1}
    record = vos_emulator.state.pay_history[-1]
    assert record["memo"] == f"portal#{entry.pk} cash at counter"
    assert entry.created_ip == "192.0.2.7"
    assert entry.created_by == world.reseller
    assert AuditLog.objects.filter(
        action="ledger.topup", outcome="applied", account="1001"
    ).exists()


def test_deduction_sends_a_negative_amount(world, vos_emulator):
    before = vos_emulator.state.balance("1002")

    entry = submit(world, "1002", "3", deduct=True)

    assert entry.kind == LedgerEntry.Kind.DEDUCT
    assert entry.amount == Decimal("-3")
    assert vos_emulator.state.balance("1002") == before - 3


def test_a_second_submit_with_the_same_key_pays_nothing(world, vos_emulator):
    key = str(uuid.uuid4())
    first = submit(world, "1001", "10", key=key)
    second = submit(world, "1001", "10", key=key)

    assert second.pk == first.pk
    assert vos_emulator.calls["Pay"] == 1
    assert LedgerEntry.objects.count() == 1


def test_a_lost_answer_is_found_in_pay_history_and_never_resent(world, vos_emulator):
    vos_emulator.faults.drop_after_pay_rate = 1.0
    before = vos_emulator.state.balance("1001")

    entry = submit(world, "1001", "7")

    assert entry.state == State.APPLIED
    assert entry.vos_record_key
    assert vos_emulator.calls["Pay"] == 1
    assert vos_emulator.calls["GetPayHistory"] >= 1
    assert vos_emulator.state.balance("1001") == before + 7
    assert world.account("1001").balance == before + 7


def test_a_request_dropped_before_vos_acted_fails_once_its_window_closes(world, vos_emulator):
    vos_emulator.faults.drop_rate = 1.0
    entry = submit(world, "1001", "7")
    assert entry.state == State.UNKNOWN  # lost: it may have been applied

    vos_emulator.faults.drop_rate = 0.0
    reconcile.ledger_reconcile()  # window still open: not proven failed yet
    entry.refresh_from_db()
    assert entry.state == State.UNKNOWN

    reconcile.ledger_reconcile(now=timezone.now() + LATER)
    entry.refresh_from_db()
    assert entry.state == State.FAILED
    assert vos_emulator.calls["Pay"] == 1


def test_an_unknown_row_stays_unknown_while_pay_history_is_unreadable(world, vos_emulator):
    vos_emulator.faults.drop_after_pay_rate = 1.0
    vos_emulator.faults.error_rate = 1.0  # GetPayHistory answers HTTP 500 (Pay too: unknown)
    entry = submit(world, "1001", "5")
    assert entry.state == State.UNKNOWN

    summary = reconcile.ledger_reconcile(now=timezone.now() + LATER)
    entry.refresh_from_db()
    assert entry.state == State.UNKNOWN
    assert summary.still_unknown == 1 and summary.errors


def test_vos_rejection_fails_the_row_with_the_message(world, vos_emulator):
    vos_emulator.state.customers.pop("1005")  # gone from VOS, still in the mirror

    entry = submit(world, "1005", "5")

    assert entry.state == State.FAILED
    assert "Not found" in entry.error


def test_vos_memo_carries_the_ledger_id_within_255_characters(world):
    entry = LedgerEntry(pk=123456, memo="备注" * 200)
    memo = ledger.ledger_vos_memo(entry=entry)
    assert memo.startswith("portal#123456 备注")
    assert len(memo) == 255
    memo.encode("utf-8")  # whole characters only


@pytest.mark.parametrize(
    ("with_memo", "drop_before"),
    [(True, 0.0), (False, 0.0), (True, 0.1), (False, 0.1)],
    ids=["memo", "memo-less", "memo+lost-requests", "memo-less+lost-requests"],
)
def test_200_topups_with_30_percent_lost_answers_move_money_exactly_once(
    world, vos_emulator, with_memo, drop_before
):
    vos_emulator.faults.pay_history_memo = with_memo
    vos_emulator.faults.drop_after_pay_rate = 0.3
    vos_emulator.faults.drop_rate = drop_before  # some Pays never reach VOS at all
    vos_emulator.faults.seed = 7
    accounts = ["1001", "1002", "1003", "1004", "1005"]
    before = {a: vos_emulator.state.balance(a) for a in accounts}
    rng = random.Random(11)
    keys = []
    refused = 0
    for n in range(200):
        account = rng.choice(accounts)
        # Few distinct amounts, so memo-less matching meets look-alike payments.
        amount = rng.choice(["5", "10", "10", "20.5", "0.0001"])
        key = str(uuid.uuid4())
        try:
            submit(world, account, amount, key=key, deduct=n % 10 == 9)
        except ledger.LedgerError:
            # A deduction reads the customer's balance first; a lost read refuses it unsent.
            assert n % 10 == 9 and drop_before
            refused += 1
            continue
        keys.append(key)
        if n % 7 == 0:  # a double-submitted form
            submit(world, account, amount, key=key, deduct=n % 10 == 9)
    # A browser retry long after.
    for key in keys[::13]:
        entry = LedgerEntry.objects.get(idempotency_key=key)
        submit(world, entry.account, str(abs(entry.amount)), key=key, deduct=entry.amount < 0)

    assert vos_emulator.calls["Pay"] == 200 - refused
    vos_emulator.faults.drop_rate = 0.0
    transfers.ledger_sweep(now=timezone.now() + LATER)

    assert not LedgerEntry.objects.filter(state__in=[State.UNKNOWN, State.PENDING]).exists()
    assert LedgerEntry.objects.count() == 200 - refused
    applied = defaultdict(Decimal)
    for entry in LedgerEntry.objects.filter(state=State.APPLIED):
        applied[entry.account] += entry.amount
    for account in accounts:
        assert vos_emulator.state.balance(account) - before[account] == applied[account]
    sent = portal_memos(vos_emulator)
    assert max(sent.values()) == 1  # no Pay reached VOS twice
    assert set(sent) == set(
        LedgerEntry.objects.filter(state=State.APPLIED).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("with_memo", [True, False], ids=["memo", "memo-less"])
def test_prepaid_legs_stay_balanced_when_answers_are_lost(
    vos_server, vos_client, vos_emulator, with_memo
):
    world = demo_world(
        vos_server,
        vos_client,
        prepaid=True,
        cap_per_transaction=Decimal("1000"),
        cap_per_day=Decimal("100000"),
    )
    vos_emulator.faults.pay_history_memo = with_memo
    vos_emulator.faults.drop_after_pay_rate = 0.3
    vos_emulator.faults.seed = 3
    accounts = ["1001", "1002", "1004"]
    tracked = [*accounts, "agent01"]
    before = {a: vos_emulator.state.balance(a) for a in tracked}
    rng = random.Random(5)
    for n in range(60):
        key = str(uuid.uuid4())
        account = rng.choice(accounts)
        amount = rng.choice(["2", "5", "5", "7.25"])
        submit(world, account, amount, key=key, deduct=n % 6 == 5)
        if n % 5 == 0:
            submit(world, account, amount, key=key, deduct=n % 6 == 5)

    transfers.ledger_sweep(now=timezone.now() + LATER)
    transfers.ledger_sweep(now=timezone.now() + 2 * LATER)

    assert not LedgerEntry.objects.filter(state__in=[State.UNKNOWN, State.PENDING]).exists()
    delta = {a: vos_emulator.state.balance(a) - before[a] for a in tracked}
    # Money only moved between the reseller and their customers.
    assert sum(delta.values()) == 0
    applied = defaultdict(Decimal)
    for entry in LedgerEntry.objects.filter(state=State.APPLIED):
        applied[entry.account] += entry.amount
    for account in tracked:
        assert delta[account] == applied[account]
    assert max(portal_memos(vos_emulator).values()) == 1


def test_prepaid_reseller_cannot_give_more_than_they_hold(vos_server, vos_client, vos_emulator):
    world = demo_world(
        vos_server,
        vos_client,
        prepaid=True,
        cap_per_transaction=Decimal("100000"),
        cap_per_day=Decimal("100000"),
    )
    held = vos_emulator.state.balance("agent01")

    with pytest.raises(ledger.LedgerError) as refused:
        submit(world, "1001", str(held + 1))
    assert "cannot be larger" in refused.value.message
    assert vos_emulator.calls["Pay"] == 0

    submit(world, "1001", str(held))
    assert vos_emulator.state.balance("agent01") == 0
    with pytest.raises(ledger.LedgerError):
        submit(world, "1002", "0.0001")
    assert vos_emulator.calls["Pay"] == 2


def test_prepaid_second_leg_failure_is_compensated(vos_server, vos_client, vos_emulator):
    world = demo_world(vos_server, vos_client, prepaid=True)
    before = vos_emulator.state.balance("agent01")
    vos_emulator.state.customers.pop("1003")  # the customer's Pay will be refused

    entry = submit(world, "1003", "25")

    assert entry.state == State.FAILED
    first, _second, compensations = transfers.transfer_rows(entry)
    assert first.state == State.APPLIED and first.amount == Decimal("-25")
    assert [c.state for c in compensations] == [State.APPLIED]
    assert vos_emulator.state.balance("agent01") == before


def test_prepaid_transfer_completes_when_both_answers_are_lost(
    vos_server, vos_client, vos_emulator
):
    world = demo_world(vos_server, vos_client, prepaid=True)
    vos_emulator.faults.drop_after_pay_rate = 1.0
    vos_emulator.faults.error_rate = 1.0
    customer_before = vos_emulator.state.balance("1001")

    # GetCustomer (the credit check) fails too: nothing is written or sent.
    with pytest.raises(ledger.LedgerError):
        submit(world, "1001", "10")
    assert vos_emulator.calls["Pay"] == 0
    assert not LedgerEntry.objects.exists()

    vos_emulator.faults.error_rate = 0.0
    vos_emulator.faults.drop_rate = 0.0
    entry = submit(world, "1001", "10")
    # Both legs were sent, both answers lost, both found in pay history.
    assert entry.state == State.APPLIED
    assert vos_emulator.state.balance("1001") == customer_before + 10


def test_day_cap_counts_applied_pending_and_unknown_rows(vos_server, vos_client, vos_emulator):
    world = demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("100"), cap_per_day=Decimal("150")
    )
    submit(world, "1001", "100")
    vos_emulator.faults.drop_rate = 1.0
    submit(world, "1002", "40")  # unknown: may have been applied, so it counts
    vos_emulator.faults.drop_rate = 0.0

    with pytest.raises(ledger.LedgerError) as refused:
        submit(world, "1003", "20")
    assert refused.value.field == "amount"
    submit(world, "1003", "10")
    with pytest.raises(ledger.LedgerError):  # deductions count towards the daily cap
        submit(world, "1004", "10", deduct=True)
    assert vos_emulator.calls["Pay"] == 3


def test_reconcile_task_is_safe_to_run_twice(world, vos_emulator):
    vos_emulator.faults.drop_rate = 1.0
    entry = submit(world, "1001", "9")
    vos_emulator.faults.drop_rate = 0.0
    LedgerEntry.objects.filter(pk=entry.pk).update(sent_at=timezone.now() - LATER)

    reconcile_unknown.apply(throw=True)
    reconcile_unknown.apply(throw=True)

    entry.refresh_from_db()
    assert entry.state == State.FAILED
    assert vos_emulator.calls["Pay"] == 1


def test_a_row_whose_sender_died_is_reconciled_not_resent(world, vos_emulator):
    sent_at = timezone.now() - timedelta(minutes=5)
    entry = LedgerEntry.objects.create(
        server=world.server,
        account="1001",
        amount=Decimal("4"),
        kind="topup",
        idempotency_key="k1",
        reseller_account="agent01",
        sent_at=sent_at,
    )
    # It did reach VOS before the process died.
    vos_emulator.state.pay(
        "1001", Decimal("4"), memo=f"portal#{entry.pk}", at_ms=int(sent_at.timestamp() * 1000) + 300
    )

    transfers.ledger_sweep()

    entry.refresh_from_db()
    assert entry.state == State.APPLIED
    assert vos_emulator.calls["Pay"] == 0
