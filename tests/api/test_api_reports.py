"""Calls, statements, payments and /me through the API: the same figures as the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from billing.models import PayRecord
from telephony.models import Cdr
from telephony.services.cdr_rollups import rollups_rebuild

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def make_calls(server, count, *, account="1001", start=BASE, same_second_every=3):
    rows = []
    for n in range(count):
        # Several calls share a start second: the id breaks the tie.
        moment = start + timedelta(seconds=n // same_second_every)
        rows.append(
            Cdr(
                server=server,
                natural_key=f"p{account}-{start.timestamp()}-{n}",
                account=account,
                caller_e164="8613800001001",
                callee_e164=f"86139{n:08d}",
                start=moment,
                stop=moment + timedelta(seconds=30),
                hold_time=30,
                fee_time=60,
                fee=Decimal("0.05"),
            )
        )
    Cdr.objects.bulk_create(rows, batch_size=500)
    # Rows written past the ingest: their rollups are rebuilt, as `cdr_rollups_rebuild` does.
    rollups_rebuild(server_id=server.pk)


def read_all(api, path, **params):
    seen, after, pages = [], None, 0
    while True:
        query = {**params, **({"after": after} if after else {})}
        body = api.get(path, query).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        after = body["next"]
        if after is None:
            return seen, pages


@pytest.mark.parametrize("limit", [7, 500])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_every_call_is_read_exactly_once_across_pages(reseller_api, world, limit, direction):
    make_calls(world.server, 1234)
    seen, pages = read_all(reseller_api, "/customers/1001/calls", limit=limit, direction=direction)
    assert len(seen) == 1234 and len(set(seen)) == 1234
    assert pages == -(-1234 // limit)
    calls = Cdr.objects.filter(account="1001")
    order = ("start", "id") if direction == "forward" else ("-start", "-id")
    assert seen == list(calls.order_by(*order).values_list("id", flat=True))


def test_paging_is_stable_while_new_calls_arrive(reseller_api, world):
    make_calls(world.server, 100)
    body = reseller_api.get("/customers/1001/calls", {"limit": 30}).json()
    seen = [item["id"] for item in body["items"]]
    make_calls(world.server, 20, start=BASE + timedelta(days=1))  # newer calls arrive
    after = body["next"]
    while after:
        body = reseller_api.get("/customers/1001/calls", {"limit": 30, "after": after}).json()
        seen += [item["id"] for item in body["items"]]
        after = body["next"]
    assert len(seen) == 100 == len(set(seen))


def test_since_limits_calls_and_the_record_has_the_seed_fields(reseller_api, world):
    make_calls(world.server, 30, same_second_every=1)
    since = (BASE + timedelta(seconds=20)).isoformat()
    body = reseller_api.get(
        "/customers/1001/calls", {"since": since, "direction": "forward", "limit": 500}
    ).json()
    assert len(body["items"]) == 10 and body["next"] is None
    first = body["items"][0]
    assert set(first) >= {"id", "start", "caller", "callee", "duration", "billed", "cost"}
    assert (first["duration"], first["billed"], first["cost"]) == (30, 60, "0.0500")


def test_limit_outside_1_to_500_is_422(reseller_api, world):
    assert reseller_api.get("/customers/1001/calls", {"limit": 0}).status_code == 422
    assert reseller_api.get("/customers/1001/calls", {"limit": 501}).status_code == 422


def test_an_after_of_another_account_reads_nothing(reseller_api, world):
    make_calls(world.server, 3, account="2001")
    foreign = Cdr.objects.filter(account="2001").first().pk
    body = reseller_api.get("/customers/1001/calls", {"after": foreign}).json()
    assert body == {"items": [], "next": None}


def test_customer_key_reads_its_own_calls_payments_and_me(customer_api, world):
    make_calls(world.server, 5)
    make_calls(world.server, 5, account="1002")
    seen, _ = read_all(customer_api, "/me/calls", limit=2)
    assert len(seen) == 5
    PayRecord.objects.create(
        server=world.server, natural_key="x1", account="1001", amount=Decimal("5"), paid_at=BASE
    )
    PayRecord.objects.create(
        server=world.server, natural_key="x2", account="1002", amount=Decimal("9"), paid_at=BASE
    )
    payments = customer_api.get("/me/payments").json()["items"]
    assert [p["amount"] for p in payments] == ["5.0000"]
    me = customer_api.get("/me").json()
    assert me["role"] == "customer" and me["account"]["account"] == "1001"


def test_statement_has_the_seed_fields_and_adds_up(reseller_api, world):
    make_calls(world.server, 10, start=datetime(2026, 1, 10, tzinfo=UTC))
    PayRecord.objects.create(
        server=world.server,
        natural_key="s1",
        account="1001",
        amount=Decimal("20"),
        paid_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    body = reseller_api.get(
        "/customers/1001/statement", {"from": "2026-01-01", "to": "2026-01-31"}
    ).json()
    assert Decimal(body["payments"]) == Decimal("20")
    assert Decimal(body["call_charges"]) == Decimal("0.5")
    assert body["calls"] == 10
    opening, closing = Decimal(body["opening_balance"]), Decimal(body["closing_balance"])
    net = Decimal(body["payments"]) + Decimal(body["adjustments"]) - Decimal(body["total_charges"])
    assert opening + net == closing


def test_statement_with_to_before_from_is_422(reseller_api):
    response = reseller_api.get(
        "/customers/1001/statement", {"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert response.status_code == 422


def test_resellers_own_statement_is_of_the_agent_account(reseller_api):
    body = reseller_api.get("/me/statement", {"from": "2026-01-01", "to": "2026-01-02"}).json()
    assert body["account"] == "agent01"
