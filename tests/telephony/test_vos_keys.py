"""Natural keys are stored in existing databases: their hash must never change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from telephony.vos import CdrRecord, ConsumptionRecord, PayHistoryRecord

AT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)

CDR = CdrRecord(
    account="1001",
    agent_account="agent01",
    caller_e164="8613800000001",
    caller_access_e164="",
    callee_e164="8675512345678",
    callee_access_e164="075512345678",
    caller_gateway="gw1",
    callee_gateway="gw2",
    caller_ip="10.0.0.1",
    callee_ip="10.0.0.2",
    start=AT,
    stop=datetime(2026, 3, 1, 12, 32, 0, tzinfo=UTC),
    hold_time=105,
    fee_time=120,
    fee=Decimal("0.2400"),
    fee_prefix="86",
    call_level=1,
    end_direction=0,
    end_reason=3,
)


def test_pay_history_keys_are_the_stored_ones():
    paid = PayHistoryRecord(
        account="1001",
        fee=Decimal("12.3456"),
        type=0,
        pay_type=5,
        balance_after=Decimal("-3.5000"),
        pay_time=AT,
        memo="x",
    )
    assert paid.natural_key == "5c573980c5bb3e3b23448071772cee0ea809fa81"
    no_balance = PayHistoryRecord(
        account="张伟",
        fee=Decimal("1.0000"),
        type=1,
        pay_type=0,
        balance_after=None,
        pay_time=AT,
        memo=None,
    )
    assert no_balance.natural_key == "e8b9d94d7f09c2b65106ee3e79f8efe983c23f96"


def test_cdr_keys_are_the_stored_ones():
    assert CDR.natural_key == "7d4b45ee3a775cf537ebc916f6f30182ad8448c7"
    assert CDR._replace(flow_no=987654321).natural_key == "f987654321"


def test_consumption_keys_are_the_stored_ones():
    record = ConsumptionRecord(
        account="1001",
        money=Decimal("-2.0000"),
        balance_after=Decimal("8.0000"),
        type=2,
        name="月租",
        time=AT,
    )
    assert record.natural_key == "7b57f6ce7f87b833cfc5be0bd6c4ed4dfb7b9d3d"
