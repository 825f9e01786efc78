"""Writing what VOS answered: call records as plain rows, balance batches in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from telephony import sync
from telephony.models import Cdr, VosAccount
from telephony.vos import CdrRecord, Customer

from .factories import VosAccountFactory, VosServerFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 23, 59, 58, 123000, tzinfo=UTC)


def cdr_record(**overrides) -> CdrRecord:
    fields = {
        "account": "1001",
        "agent_account": "agent01",
        "caller_e164": "8613800001001",
        "caller_access_e164": "8613800001001",
        "callee_e164": "8675512345678",
        "callee_access_e164": "008675512345678",
        "caller_gateway": "gw-in",
        "callee_gateway": "gw-out",
        "caller_ip": "10.0.0.5",
        "callee_ip": "10.0.0.9",
        "start": START,
        "stop": START + timedelta(seconds=61, milliseconds=500),
        "hold_time": 61,
        "fee_time": 120,
        "fee": Decimal("0.1234"),
        "fee_prefix": "86755",
        "call_level": 1,
        "end_direction": 2,
        "end_reason": -9,
        "flow_no": 42,
    }
    return CdrRecord(**{**fields, **overrides})


@pytest.fixture
def server():
    return VosServerFactory()


def test_a_stored_cdr_reads_back_through_the_orm_as_the_record(server):
    record = cdr_record(callee_e164="9" * 80, hold_time=-1, flow_no=None)

    assert sync.cdrs_store(server=server, records=[record]) == 1

    cdr = Cdr.objects.get(server=server, start=record.start)
    assert cdr.natural_key == record.natural_key
    assert cdr.flow_no is None
    assert cdr.start == record.start and cdr.stop == record.stop
    assert cdr.start.utcoffset() == timedelta(0)
    assert cdr.stop.microsecond == 623000
    assert cdr.fee == Decimal("0.1234")
    assert cdr.callee_e164 == "9" * 64
    assert cdr.hold_time == 0
    for name in (
        "account",
        "agent_account",
        "caller_e164",
        "caller_access_e164",
        "callee_access_e164",
        "caller_gateway",
        "callee_gateway",
        "caller_ip",
        "callee_ip",
        "fee_time",
        "fee_prefix",
        "call_level",
        "end_direction",
        "end_reason",
    ):
        assert getattr(cdr, name) == getattr(record, name), name


def test_a_whole_second_start_is_found_by_time_range_lookups(server):
    record = cdr_record(start=START.replace(microsecond=0))

    sync.cdrs_store(server=server, records=[record])

    assert Cdr.objects.filter(start__gte=record.start, start__lt=record.stop).count() == 1
    assert Cdr.objects.filter(start__gt=record.start).count() == 0


def test_storing_records_counts_only_the_rows_added(server):
    first, second = cdr_record(flow_no=1), cdr_record(flow_no=2)

    assert sync.cdrs_store(server=server, records=[first, second, first]) == 2
    assert sync.cdrs_store(server=server, records=[second, cdr_record(flow_no=3)]) == 1
    assert sync.cdrs_store(server=server, records=[]) == 0
    assert Cdr.objects.filter(server=server).count() == 3


def test_batches_are_stored_whole_across_the_batch_size(server, monkeypatch):
    monkeypatch.setattr(sync, "CDR_INSERT_BATCH", 3)
    records = [cdr_record(flow_no=n) for n in range(8)]

    assert sync.cdrs_store(server=server, records=records) == 8
    assert sync.cdrs_store(server=server, records=records) == 0


def test_the_same_key_on_another_server_is_another_call(server):
    record = cdr_record()

    sync.cdrs_store(server=server, records=[record])

    assert sync.cdrs_store(server=VosServerFactory(), records=[record]) == 1


def test_last_call_at_moves_forward_only(server):
    account = VosAccountFactory(server=server, account="1001")
    other = VosAccountFactory(server=server, account="1002")
    later = START + timedelta(hours=1)

    sync.cdrs_store(
        server=server,
        records=[
            cdr_record(flow_no=1),
            cdr_record(flow_no=2, start=later),
            cdr_record(flow_no=3, account="1002"),
        ],
    )
    account.refresh_from_db()
    other.refresh_from_db()
    assert account.last_call_at == later
    assert other.last_call_at == START

    sync.cdrs_store(server=server, records=[cdr_record(flow_no=4, start=START - timedelta(days=1))])
    account.refresh_from_db()
    assert account.last_call_at == later


def customer(account: str, money: str) -> Customer:
    return Customer(
        account=account,
        name=f"Customer {account}",
        money=Decimal(money),
        limit_money=Decimal("0"),
        today_consumption=Decimal("0"),
        lock_type=0,
        agent_account="agent01",
    )


def test_a_balance_batch_skips_only_the_rows_holding_a_newer_reading(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    newer = VosAccountFactory(
        server=server, account="1001", balance_as_of=read_at + timedelta(seconds=1)
    )
    older = VosAccountFactory(
        server=server, account="1002", balance_as_of=read_at - timedelta(seconds=1)
    )
    never = VosAccountFactory(server=server, account="1003", balance_as_of=None)
    gone = VosAccountFactory(
        server=server, account="1004", balance_as_of=None, missing_since=read_at
    )

    stored = sync.accounts_apply(
        server=server,
        customers=[
            customer("1001", "1"),
            customer("1002", "2"),
            customer("1003", "3"),
            customer("1004", "4"),
            customer("1005", "5"),
        ],
        read_at=read_at,
    )

    assert stored == 4
    balances = dict(VosAccount.objects.values_list("account", "balance"))
    assert balances == {
        "1001": newer.balance,
        "1002": Decimal("2"),
        "1003": Decimal("3"),
        "1004": Decimal("4"),
        "1005": Decimal("5"),
    }
    older.refresh_from_db()
    never.refresh_from_db()
    gone.refresh_from_db()
    assert older.balance_as_of == read_at == never.balance_as_of
    assert gone.missing_since is None
    assert VosAccount.objects.get(account="1001").balance_as_of == newer.balance_as_of


def test_an_unchanged_reading_only_moves_balance_as_of_on(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    sync.accounts_apply(server=server, customers=[customer("1001", "7")], read_at=read_at)

    later = read_at + timedelta(minutes=5)
    assert sync.accounts_apply(server=server, customers=[customer("1001", "7")], read_at=later) == 0
    assert VosAccount.objects.get(account="1001").balance_as_of == later
    assert (
        sync.accounts_apply(server=server, customers=[customer("1001", "8")], read_at=read_at) == 0
    )
    assert VosAccount.objects.get(account="1001").balance == Decimal("7")
