"""Money through the API: Idempotency-Key semantics, exactly once with lost Pay answers."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import IdempotentRequest
from billing.models import LedgerEntry


def post_tx(api, account="1001", amount="10.50", key=None, memo="api"):
    return api.post(
        f"/customers/{account}/transactions",
        {"amount": amount, "memo": memo},
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def test_a_top_up_is_applied_and_answers_the_ledger_row(reseller_api, vos_emulator):
    before = Decimal(str(vos_emulator.state.customers["1001"]["money"]))
    response = post_tx(reseller_api, amount="10.50")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "applied"
    assert Decimal(body["amount"]) == Decimal("10.50")
    assert Decimal(body["balance_after"]) == before + Decimal("10.50")
    assert Decimal(str(vos_emulator.state.customers["1001"]["money"])) == before + Decimal("10.50")
    entry = LedgerEntry.objects.get(pk=body["id"])
    assert entry.memo == "api" and entry.created_by.username == "sunrise"


def test_a_negative_amount_removes_credit(reseller_api, vos_emulator):
    # The demo's balance depends on the hour it was seeded at; this one has 3 to give.
    vos_emulator.state.customers["1001"]["money"] = Decimal("12.50")
    before = Decimal("12.50")
    body = post_tx(reseller_api, amount=-3).json()
    assert body["state"] == "applied"
    assert Decimal(body["amount"]) == Decimal("-3")
    assert Decimal(str(vos_emulator.state.customers["1001"]["money"])) == before - 3


def test_the_same_key_and_body_replays_the_first_answer_and_sends_nothing(
    reseller_api, vos_emulator
):
    key = str(uuid.uuid4())
    first = post_tx(reseller_api, key=key)
    money = vos_emulator.state.customers["1001"]["money"]
    second = post_tx(reseller_api, key=key)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert vos_emulator.state.customers["1001"]["money"] == money
    assert LedgerEntry.objects.filter(account="1001", kind="topup").count() == 1


def test_the_same_key_with_another_body_is_422(reseller_api):
    key = str(uuid.uuid4())
    post_tx(reseller_api, key=key, amount="5")
    response = post_tx(reseller_api, key=key, amount="6")
    assert response.status_code == 422
    assert response.json()["type"].endswith("idempotency-key-reused")


def test_a_second_request_while_the_first_runs_is_409(reseller_api, world):
    key = "running-key"
    IdempotentRequest.objects.create(user=world.reseller, key=key, request_hash="x")
    # Same hash as the real request would have: compute it by a first attempt elsewhere.
    from portal.api.idempotency import request_hash

    class _Req:
        method = "POST"
        path = "/api/v1/customers/1001/transactions"

    digest = request_hash(_Req, {"account": "1001", "amount": "10.50", "memo": "api"})
    IdempotentRequest.objects.filter(key=key).update(request_hash=digest)
    response = post_tx(reseller_api, key=key)
    assert response.status_code == 409
    assert response["Retry-After"]
    assert not LedgerEntry.objects.exists()


def test_a_missing_idempotency_key_is_refused_before_anything_moves(reseller_api):
    response = reseller_api.post("/customers/1001/transactions", {"amount": "5"})
    assert response.status_code == 422
    assert not LedgerEntry.objects.exists()


def test_a_refusal_of_topup_submit_is_422_naming_the_field_and_is_replayed(reseller_api):
    key = str(uuid.uuid4())
    response = post_tx(reseller_api, amount="501", key=key)  # cap per transaction is 500
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount"
    assert post_tx(reseller_api, amount="501", key=key).json() == response.json()


def test_zero_and_too_many_decimals_are_invalid(reseller_api):
    assert post_tx(reseller_api, amount="0").status_code == 422
    assert post_tx(reseller_api, amount="1.001").status_code == 422


def test_another_resellers_customer_cannot_be_topped_up(other_api, vos_emulator):
    money = vos_emulator.state.customers["1001"]["money"]
    assert post_tx(other_api).status_code == 404
    assert vos_emulator.state.customers["1001"]["money"] == money


def test_transactions_list_and_detail_are_the_resellers_own(reseller_api, other_api):
    ids = [post_tx(reseller_api, amount=str(n)).json()["id"] for n in (1, 2, 3)]
    seen, cursor = [], None
    while True:
        body = reseller_api.get(
            "/transactions", {"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == ids[::-1]
    assert reseller_api.get(f"/transactions/{ids[0]}").json()["id"] == ids[0]
    assert other_api.get(f"/transactions/{ids[0]}").status_code == 404
    assert other_api.get("/transactions").json()["items"] == []
    assert reseller_api.get("/transactions", {"state": "failed"}).json()["items"] == []


def test_a_pay_whose_answer_is_lost_is_confirmed_not_resent(reseller_api, vos_emulator):
    vos_emulator.faults.update({"drop_after_pay_rate": 1.0})
    before = Decimal(str(vos_emulator.state.customers["1001"]["money"]))
    key = str(uuid.uuid4())
    first = post_tx(reseller_api, key=key, amount="7")
    vos_emulator.faults.update({"drop_after_pay_rate": 0.0})
    again = post_tx(reseller_api, key=key, amount="7")
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["state"] in ("applied", "unknown")
    assert Decimal(str(vos_emulator.state.customers["1001"]["money"])) == before + 7


def test_two_hundred_transactions_with_lost_answers_move_money_exactly_once(
    reseller_api, vos_emulator, settings
):
    """30% of Pay answers lost after apply; each is retried with its key until final."""
    settings.TOPUP_WAIT_SECONDS = 3
    vos_emulator.faults.update({"drop_after_pay_rate": 0.3})
    before = Decimal(str(vos_emulator.state.customers["1001"]["money"]))
    for n in range(200):
        key = f"bulk-{n}"
        amount = "1.25" if n % 5 else "-0.50"
        for _attempt in range(20):
            response = post_tx(reseller_api, key=key, amount=amount, memo="bulk")
            if response.json().get("state") in ("applied", "failed"):
                break
        else:
            pytest.fail(f"transaction {n} never settled: {response.json()}")
    rows = LedgerEntry.objects.filter(account="1001", memo="bulk")
    assert rows.count() == 200
    # Lost answers really happened, and were settled from the pay history.
    assert rows.exclude(vos_record_key="").exists()
    applied = sum((r.amount for r in rows if r.state == "applied"), Decimal("0"))
    after = Decimal(str(vos_emulator.state.customers["1001"]["money"]))
    assert after - before == applied
    portal_tags = [
        p["memo"].split()[0]
        for p in vos_emulator.state.pay_history
        if p.get("memo", "").startswith("portal#")
    ]
    assert len(portal_tags) == len(set(portal_tags))


@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once(reseller_api, vos_emulator):
    key = str(uuid.uuid4())
    answers = []

    def hit():
        answers.append(post_tx(reseller_api, key=key).status_code)
        connection.close()

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert LedgerEntry.objects.filter(account="1001", kind="topup").count() == 1
    assert set(answers) <= {201, 202, 409}
