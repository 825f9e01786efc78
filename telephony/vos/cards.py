"""Typed results of the self-service interfaces: phone cards (GetPhoneCard), fee rates
(GetFeeRateGroup, GetFeeRate) and GetAvailableTime. Same ``from_wire`` contract as
:mod:`telephony.vos.records`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import MalformedRecord
from .wire import INT32, POSITIVE_INT, SMALL, Fields

# Rate types of InfoFeeRate (manual 2.43): the same numbers as a phone's callLevel.
RATE_TYPES = (1, 2, 4, 5)


@dataclass(frozen=True, slots=True)
class PhoneCard:
    """InfoPhoneCard (manual 2.78) without pin or password (the switch never returns them)."""

    money: Decimal
    expire_time: datetime | None = None
    used_time: datetime | None = None
    used_account: str = ""
    fee_rate_group: str = ""
    agent_account: str = ""
    memo: str = ""

    @property
    def used(self) -> bool:
        return self.used_time is not None or bool(self.used_account)

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetPhoneCard") -> PhoneCard:
        f = Fields(record, interface)
        return cls(
            money=f.money("money"),
            expire_time=f.time("expireTime"),
            used_time=f.time("usedTime"),
            used_account=f.str("usedAccount"),
            fee_rate_group=f.text("feeRateGroup"),
            agent_account=f.str("agentAccount"),
            memo=f.text("memo"),
        )


@dataclass(frozen=True, slots=True)
class FeeRateGroup:
    name: str
    memo: str = ""

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetFeeRateGroup") -> FeeRateGroup:
        f = Fields(record, interface)
        return cls(name=f.required("name"), memo=f.text("memo"))


@dataclass(frozen=True, slots=True)
class FeeRateSection:
    """A flat ``fee`` for ``time`` seconds, charged in ``position`` order before the rate."""

    fee: Decimal
    time: int
    position: int

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetFeeRate") -> FeeRateSection:
        f = Fields(record, interface)
        return cls(
            fee=f.money("fee"), time=f.int("time", POSITIVE_INT), position=f.int("position", SMALL)
        )


@dataclass(frozen=True, slots=True)
class FeeRate:
    prefix: str
    area_code: str
    area_name: str
    type: int
    fee: Decimal
    period: int
    locked: bool = False
    sections: tuple[FeeRateSection, ...] = ()

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetFeeRate") -> FeeRate:
        f = Fields(record, interface)
        rate_type = f.int("type", SMALL)
        if rate_type not in RATE_TYPES:
            raise MalformedRecord(interface, f"type {rate_type!r} is not a rate type")
        prefix = f.required("feePrefix")
        if not prefix.isdigit() or len(prefix) > 32:
            raise MalformedRecord(interface, f"feePrefix {prefix[:40]!r} is not a prefix")
        sections = f.get("infoFeeRateSections") or []
        if not isinstance(sections, list):
            raise MalformedRecord(interface, "infoFeeRateSections is not a list")
        return cls(
            prefix=prefix,
            area_code=f.str("areaCode") or prefix,
            area_name=f.text("areaName"),
            type=rate_type,
            fee=f.money("fee"),
            period=max(1, f.int("period", POSITIVE_INT)),
            locked=f.int("lockType", SMALL) != 0,
            sections=tuple(
                sorted(
                    (FeeRateSection.from_wire(s, interface) for s in sections),
                    key=lambda s: s.position,
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class AvailableTime:
    """InfoAvailableTime: ``seconds`` > 0 the time the balance pays for, < 0 an end reason."""

    account: str
    seconds: int
    balance: Decimal | None = None

    @property
    def refused(self) -> bool:
        return self.seconds <= 0

    @classmethod
    def from_wire(cls, record: Any, interface: str = "GetAvailableTime") -> AvailableTime:
        f = Fields(record, interface)
        return cls(
            account=f.str("account"),
            seconds=f.int("timeRemain", INT32),
            balance=f.optional_money("accountMoney"),
        )
