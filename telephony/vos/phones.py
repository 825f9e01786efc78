"""Typed results of the phone interfaces (GetPhone, the customer phone book)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import MalformedRecord
from .wire import INT64, POSITIVE_SMALL, SMALL, Fields, to_str

KEEP_RINGING = -11  # GetCurrentCall keepTime of a call not answered yet
MAX_CALL_MS = 7 * 24 * 3600 * 1000  # a "call in progress" longer than a week is garbage


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    account: str
    customer_password: str = ""
    display_number: str = ""
    lock_type: int = 0
    memo: str = ""
    call_level: int | None = None  # 1 net, 2 local, 4 domestic, 5 international
    monthly_money_maximum: Decimal | None = None  # 0: no cap

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetPhone") -> PhoneInfo:
        f = Fields(record, interface)
        return cls(
            e164=f.required("e164"),
            account=f.str("account"),
            customer_password=f.str("customerPassword"),
            display_number=f.str("displayNumber"),
            lock_type=f.int("lockType", POSITIVE_SMALL),
            memo=f.text("memo"),
            call_level=f.optional_int("callLevel", POSITIVE_SMALL),
            monthly_money_maximum=f.optional_money("monthlyMoneyMaximum"),
        )


@dataclass(frozen=True, slots=True)
class PhoneOnline:
    """InfoPhoneOnline: a phone registered now (GetPhoneOnline)."""

    e164: str
    current_calls: int = 0
    remote_ip: str = ""
    register_time: datetime | None = None
    update_time: datetime | None = None
    protocol: int = 1  # 0 H323, 1 SIP
    device: str = ""

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetPhoneOnline") -> PhoneOnline:
        f = Fields(record, interface)
        return cls(
            e164=f.required("e164"),
            current_calls=f.int("currentCall", POSITIVE_SMALL),
            remote_ip=f.str("remoteIp"),
            register_time=f.time("registerTime"),
            update_time=f.time("updateTime"),
            protocol=f.int("protocol", POSITIVE_SMALL),
            device=f.text("productId"),
        )


@dataclass(frozen=True, slots=True)
class CurrentCall:
    """InfoCurrentCall, what a customer may see of it (GetCurrentCall)."""

    caller: str
    callee: str
    talk_seconds: int | None  # None: still ringing (keepTime -11)
    connected_time: datetime | None = None

    @property
    def ringing(self) -> bool:
        return self.talk_seconds is None

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetCurrentCall") -> CurrentCall:
        f = Fields(record, interface)
        keep = f.int("keepTime", INT64)
        if keep < 0 and keep != KEEP_RINGING:
            raise MalformedRecord(interface, f"keepTime {keep} is not a duration")
        if keep > MAX_CALL_MS:
            raise MalformedRecord(interface, f"keepTime {keep} is longer than a call lasts")
        return cls(
            caller=f.str("callerE164"),
            callee=f.str("calleeE164"),
            talk_seconds=None if keep < 0 else keep // 1000,
            connected_time=f.time("connectedTime"),
        )


@dataclass(frozen=True, slots=True)
class PhoneBookEntry:
    e164: str
    name: str = ""
    short_e164s: tuple[str, ...] = ()
    department: str = ""
    device_type: int = 0
    address_type: int = 0
    type: int = 0
    memo: str = ""
    last_update_time: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "e164": self.e164,
            "shortE164s": list(self.short_e164s),
            "name": self.name,
            "department": self.department,
            "deviceType": self.device_type,
            "addressType": self.address_type,
            "type": self.type,
            "memo": self.memo,
        }

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetCustomerPhoneBook") -> PhoneBookEntry:
        f = Fields(record, interface)
        return cls(
            e164=f.required("e164"),
            name=f.text("name"),
            short_e164s=_short_numbers(f.get("shortE164s"), interface),
            department=f.text("department"),
            device_type=f.int("deviceType", SMALL),
            address_type=f.int("addressType", SMALL),
            type=f.int("type", SMALL),
            memo=f.text("memo"),
            last_update_time=f.time("lastUpdateTime"),
        )


def _short_numbers(value: Any, interface: str) -> tuple[str, ...]:
    """``shortE164s``: a list of numbers; a single number is read as a list of one."""
    items = value if isinstance(value, list) else [value]
    return tuple(
        to_str(item, field_name="shortE164s", interface=interface)
        for item in items
        if item not in (None, "")
    )
