"""Typed results of the phone interfaces (GetPhone, the customer phone book)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .wire import POSITIVE_SMALL, SMALL, Fields, to_str


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    account: str
    customer_password: str = ""
    display_number: str = ""
    lock_type: int = 0
    memo: str = ""

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
