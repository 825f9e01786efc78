"""Typed results of the VOS interfaces, each decoded from its wire record by ``from_wire``.

``from_wire(record, interface=...)`` accepts any value: it returns the typed record or raises
:class:`~telephony.vos.errors.MalformedRecord` (a VosMalformed) naming the interface and the
field, never another exception. The range rules are in :mod:`telephony.vos.wire`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from hashlib import blake2b
from itertools import repeat
from typing import Any, NamedTuple

from .errors import MalformedRecord
from .keys import natural_key
from .phones import PhoneBookEntry, PhoneInfo
from .wire import (
    EPOCH,
    INT32,
    INT64,
    MAX_MILLIS,
    MAX_TEXT,
    MIN_MILLIS,
    POSITIVE_INT,
    POSITIVE_INT64,
    POSITIVE_SMALL,
    SMALL,
    Fields,
    _record,
    _required_str,
    to_millis,
    to_money,
    to_text,
)

log = logging.getLogger("telephony.vos")

__all__ = [
    "CUSTOMER_WIRE_KEYS",
    "CdrRecord",
    "ConsumptionRecord",
    "Customer",
    "CustomerAnswer",
    "CustomerBrief",
    "FeeReportRow",
    "PayHistoryRecord",
    "PayResult",
    "PhoneBookEntry",
    "PhoneInfo",
]


@dataclass(frozen=True, slots=True)
class Customer:
    account: str
    name: str
    money: Decimal
    limit_money: Decimal
    today_consumption: Decimal
    lock_type: int
    agent_account: str
    type: int = 0
    fee_rate_group: str = ""
    phone_book_limit: int | None = None
    start_time: datetime | None = None
    valid_time: datetime | None = None
    memo: str = ""
    email: str = ""

    @property
    def locked(self) -> bool:
        return self.lock_type != 0

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetCustomer") -> Customer:
        f = Fields(record, interface)
        return cls(
            account=f.required("account"),
            name=f.text("name"),
            money=f.money("money"),
            limit_money=f.money("limitMoney"),
            today_consumption=f.money("todayConsumption"),
            lock_type=f.int("lockType", POSITIVE_SMALL),
            agent_account=f.str("agentAccount"),
            type=f.int("type", POSITIVE_SMALL),
            fee_rate_group=f.str("feeRateGroup"),
            phone_book_limit=f.optional_int("phoneBookLimit"),
            start_time=f.time("startTime"),
            valid_time=f.time("validTime"),
            memo=f.text("memo"),
            email=_email(f.get("infoCustomerAdditional"), interface),
        )


def _email(additional: Any, interface: str) -> str:
    if additional is None:
        return ""
    additional = _record(additional, interface)
    return to_text(additional.get("email"), field_name="email", interface=interface)


# The record keys Customer.from_wire reads, fingerprinted by CustomerAnswer.digest.
CUSTOMER_WIRE_KEYS = (
    "account",
    "name",
    "money",
    "limitMoney",
    "todayConsumption",
    "lockType",
    "agentAccount",
    "type",
    "feeRateGroup",
    "phoneBookLimit",
    "startTime",
    "validTime",
    "memo",
    "infoCustomerAdditional",
)


@dataclass(frozen=True, slots=True)
class CustomerAnswer:
    """One GetCustomer record as VOS sent it, decoded only when asked.

    ``digest`` fingerprints every value :meth:`Customer.from_wire` reads, so a reader that
    kept the digest of the record it last decoded can tell an unchanged record without
    decoding it again (the balance sync: most accounts do not move between two polls).
    """

    account: str
    record: dict[str, Any]

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetCustomer") -> CustomerAnswer:
        record = _record(record, interface)
        return cls(account=_required_str(record, "account", interface), record=record)

    @property
    def digest(self) -> str:
        get = self.record.get
        text = "\x1f".join([repr(get(key)) for key in CUSTOMER_WIRE_KEYS])
        return blake2b(text.encode(), digest_size=16).hexdigest()

    def decode(self) -> Customer:
        """The typed customer; a garbled record is logged (once, here) and raised."""
        try:
            return Customer.from_wire(self.record)
        except MalformedRecord as exc:
            log.warning("VOS malformed GetCustomer record of %s: %s", self.account, exc.message)
            raise


@dataclass(frozen=True, slots=True)
class CustomerBrief:
    """GetAllCustomers ``{"type":1}`` on newer builds."""

    account: str
    money: Decimal | None = None
    limit_money: Decimal | None = None
    agent_account: str | None = None

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetAllCustomers") -> CustomerBrief:
        f = Fields(record, interface)
        return cls(
            account=f.required("account"),
            money=f.optional_money("money"),
            limit_money=f.optional_money("limitMoney"),
            agent_account=None if f.get("agentAccount") is None else f.str("agentAccount"),
        )


@dataclass(frozen=True, slots=True)
class PayResult:
    account: str
    balance_after: Decimal
    pay_money: Decimal
    valid_time: datetime | None = None

    @classmethod
    def from_wire(
        cls, record: Any, interface: str = "Pay", *, account: str = "", amount: Any = None
    ) -> PayResult:
        """``infoPay``; ``account`` and ``amount`` stand in for the fields VOS left out."""
        f = Fields(record, interface)
        pay_money = f.get("payMoney", amount)
        return cls(
            account=f.str("account") or account,
            balance_after=f.money("money"),
            pay_money=to_money(pay_money, field_name="payMoney", interface=interface),
            valid_time=f.time("validTime"),
        )


@dataclass(frozen=True, slots=True)
class PayHistoryRecord:
    account: str
    fee: Decimal
    type: int
    pay_type: int
    balance_after: Decimal | None
    pay_time: datetime
    memo: str | None  # None: this server does not return memos (2.1.7)

    @property
    def natural_key(self) -> str:
        return natural_key(
            self.account,
            to_millis(self.pay_time),
            self.fee,
            self.type,
            self.pay_type,
            self.balance_after,
        )

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetPayHistory") -> PayHistoryRecord:
        f = Fields(record, interface)
        return cls(
            account=f.required("account"),
            fee=f.money("fee"),
            type=f.int("type", SMALL),
            pay_type=f.int("payType", SMALL),
            balance_after=f.optional_money("customerMoney"),
            pay_time=f.required_time("payTime"),
            memo=f.text("memo") if "memo" in f.record else None,
        )


class CdrRecord(NamedTuple):
    """One GetCdr record. A named tuple, not a dataclass: a backfill makes a million of
    them, and a tuple is built in a fraction of the time (docs/PERFORMANCE.md)."""

    account: str
    agent_account: str
    caller_e164: str
    caller_access_e164: str
    callee_e164: str
    callee_access_e164: str
    caller_gateway: str
    callee_gateway: str
    caller_ip: str
    callee_ip: str
    start: datetime
    stop: datetime
    hold_time: int
    fee_time: int
    fee: Decimal
    fee_prefix: str
    call_level: int
    end_direction: int
    end_reason: int
    flow_no: int | None = None

    @property
    def natural_key(self) -> str:
        """Stable id of the call: flowNo where the server sends it, else a hash of its fields."""
        if self.flow_no is not None:
            return f"f{self.flow_no}"
        return natural_key(
            self.account,
            self.caller_e164,
            self.callee_e164,
            self.caller_access_e164,
            self.callee_access_e164,
            to_millis(self.start),
            to_millis(self.stop),
            self.caller_ip,
            self.callee_ip,
            self.hold_time,
            self.fee,
        )

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetCdr") -> CdrRecord:
        return _cdr_plain(record, interface) or cls._from_fields(record, interface)

    @classmethod
    def _from_fields(cls, record: Any, interface: str) -> CdrRecord:
        f = Fields(record, interface)
        start = f.required_time("start")
        return cls(
            account=f.required("account"),
            agent_account=f.str("agentAccount"),
            caller_e164=f.str("callerE164"),
            caller_access_e164=f.str("callerAccessE164"),
            callee_e164=f.str("calleeE164"),
            callee_access_e164=f.str("calleeAccessE164"),
            caller_gateway=f.str("callerGateway"),
            callee_gateway=f.str("calleeGateway"),
            caller_ip=f.str("callerip"),
            callee_ip=f.str("calleeip"),
            start=start,
            stop=f.time("stop") or start,
            hold_time=f.int("holdTime", POSITIVE_INT),
            fee_time=f.int("feeTime", POSITIVE_INT),
            fee=f.money("fee"),
            fee_prefix=f.str("feePrefix"),
            call_level=f.int("callLevel", POSITIVE_SMALL),
            end_direction=f.int("endDirection", POSITIVE_SMALL),
            end_reason=f.int("endReason", INT32),
            flow_no=f.optional_int("flowNo", INT64),
        )


# CdrRecord's text fields in its order (fee_prefix, after fee there, last here), and its
# integer fields with the bounds Fields.int would check (start and stop: epoch millis).
_CDR_TEXT_KEYS = (
    "agentAccount",
    "callerE164",
    "callerAccessE164",
    "calleeE164",
    "calleeAccessE164",
    "callerGateway",
    "calleeGateway",
    "callerip",
    "calleeip",
    "feePrefix",
)
_CDR_INT_KEYS = ("start", "stop", "holdTime", "feeTime", "callLevel", "endDirection", "endReason")
_ONLY_STR = frozenset({str})
_ONLY_INT = frozenset({int})
_MONEY_TYPES = frozenset({Decimal, int})


def _cdr_ints_in_bounds(start: int, stop: int, hold: int, billed: int, *small: int) -> bool:
    level, direction, reason = small
    return (
        MIN_MILLIS <= start <= MAX_MILLIS
        and (stop == 0 or MIN_MILLIS <= stop <= MAX_MILLIS)
        and POSITIVE_INT[0] <= hold <= POSITIVE_INT[1]
        and POSITIVE_INT[0] <= billed <= POSITIVE_INT[1]
        and POSITIVE_SMALL[0] <= level <= POSITIVE_SMALL[1]
        and POSITIVE_SMALL[0] <= direction <= POSITIVE_SMALL[1]
        and INT32[0] <= reason <= INT32[1]
    )


def _cdr_plain(record: Any, interface: str) -> CdrRecord | None:
    """CdrRecord.from_wire of a record holding only plain values, in a few C-level passes.

    Plain: strings for the text fields, ints within their columns' bounds, money as the JSON
    decoder gives it, absent fields (VOS omits nulls). The result is the one the field-by-field
    decoding gives; for anything else (None, numbers as strings, out of range) it returns
    None and the caller decodes field by field, with its exact errors.
    """
    if type(record) is not dict:
        return None
    get = record.get
    account = get("account")
    texts = tuple(map(get, _CDR_TEXT_KEYS, repeat("")))
    ints = tuple(map(get, _CDR_INT_KEYS, repeat(0)))
    flow_no = get("flowNo")
    fee = get("fee")
    plain = (
        type(account) is str
        and 0 < len(account) <= MAX_TEXT
        and _ONLY_STR.issuperset(map(type, texts))
        and max(map(len, texts)) <= MAX_TEXT
        and _ONLY_INT.issuperset(map(type, ints))
        and _cdr_ints_in_bounds(*ints)
        and (flow_no is None or (type(flow_no) is int and INT64[0] <= flow_no <= INT64[1]))
        and (fee is None or type(fee) in _MONEY_TYPES)
    )
    if not plain:
        return None
    start_ms, stop_ms, hold, billed, level, direction, reason = ints
    start = EPOCH + timedelta(0, 0, 0, start_ms)
    return _new_cdr(
        (
            account,
            *texts[:-1],
            start,
            EPOCH + timedelta(0, 0, 0, stop_ms) if stop_ms else start,
            hold,
            billed,
            to_money(fee, field_name="fee", interface=interface),  # None: Decimal("0")
            texts[-1],
            level,
            direction,
            reason,
            flow_no,
        )
    )


# The tuple's own constructor, without the keyword-taking __new__ of the class.
_new_cdr = CdrRecord._make


@dataclass(frozen=True, slots=True)
class FeeReportRow:
    account: str
    account_name: str
    begin: datetime | None
    end: datetime | None
    cdr_count: int
    total_fee: Decimal
    total_time: int

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetReportCustomerFee") -> FeeReportRow:
        f = Fields(record, interface)
        return cls(
            account=f.required("account"),
            account_name=f.text("accountName"),
            begin=f.time("beginTime"),
            end=f.time("endTime"),
            cdr_count=f.int("cdrCount", POSITIVE_INT),
            total_fee=f.money("totalFee"),
            total_time=f.int("totalTime", POSITIVE_INT64),
        )


@dataclass(frozen=True, slots=True)
class ConsumptionRecord:
    account: str
    money: Decimal
    balance_after: Decimal | None
    type: int
    name: str
    time: datetime

    @property
    def natural_key(self) -> str:
        return natural_key(self.account, to_millis(self.time), self.money, self.type, self.name)

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetConsumption") -> ConsumptionRecord:
        f = Fields(record, interface)
        return cls(
            account=f.required("account"),
            money=f.money("money"),
            balance_after=f.optional_money("customerMoney"),
            type=f.int("type", SMALL),
            name=f.str("consumptionName"),
            time=f.required_time("time"),
        )
