"""The demo's data (docs/EMULATOR.md, "Demo data"): accounts, phone book, phone cards,
registered phones and calls in progress.

seed.py tells the demo's money story with the accounts; cards, registrations and calls in
progress are added after it and never change it: the one used card is the demo's last
top-up of 1002, re-labelled as a phone card payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .calls import phone_device, phone_ip
from .records import DAY_MS, PAY_PAYMENT, PAY_PHONE_CARD, new_phone_card
from .state import SwitchState


@dataclass(frozen=True)
class DemoAgent:
    account: str
    name: str
    target: Decimal  # balance at `now`
    company: str


@dataclass(frozen=True)
class DemoCustomer:
    account: str
    name: str
    agent: str
    calls_per_day: tuple[int, int]
    phone_book_limit: int
    limit_money: Decimal = Decimal("0")
    negative: bool = False  # keeps a negative balance inside limitMoney
    locked: bool = False  # lockType 1 since LOCKED_DAYS_AGO
    two_phones: bool = False
    rent: Decimal = Decimal("0")  # monthly rent of the first phone
    fee_rate_group: str = "retail-std"
    memo: str = ""
    report_type: int = 0


DEMO_AGENTS = (
    DemoAgent("agent01", "Sunrise Telecom", Decimal("1500"), "Sunrise Telecom Ltd"),
    DemoAgent("agent02", "深圳云通讯", Decimal("800"), "深圳云通讯有限公司"),
)
_D, _C = Decimal, DemoCustomer
DEMO_CUSTOMERS = (
    _C("1001", "张伟", "agent01", (15, 40), 20, two_phones=True, rent=_D("8"), memo="VIP"),
    _C("1002", "Café Müller", "agent01", (5, 15), 5, report_type=3),
    _C("1003", "Ольга Петрова", "agent01", (15, 30), 0, _D("100"), negative=True),
    _C("1004", "Acme Logistics Ltd", "agent01", (20, 40), 100, two_phones=True,
       fee_rate_group="wholesale", report_type=1),
    _C("1005", "王芳", "agent01", (5, 12), 10),
    _C("1006", "Bad Debt Trading", "agent01", (8, 20), 0, locked=True,
       memo="Locked: unpaid invoice"),
    _C("2001", "李娜", "agent02", (10, 30), 3, two_phones=True, rent=_D("15"),
       fee_rate_group="深圳标准"),
    _C("2002", "Hôtel Étoile", "agent02", (5, 20), 50, fee_rate_group="深圳标准"),
    _C("2003", "O'Brien & Sons", "agent02", (10, 25), 0, _D("50"), negative=True,
       fee_rate_group="深圳标准"),
    _C("2004", "Nguyễn Văn An", "agent02", (5, 10), 2147483647, fee_rate_group="深圳标准"),
    _C("3001", "Walk-in Direct", "", (8, 25), 10, two_phones=True, rent=_D("5")),
)  # fmt: skip
LOCKED_DAYS_AGO = 9
# 1001's phone book: (e164, shortE164s, name, department, deviceType, addressType, type, memo)
DEMO_PHONE_BOOK = (
    ("8613912345678", ["8001"], "Li Lei", "Sales", 1, 1, 0, ""),
    ("8675588886666", [], "王小明", "财务部", 2, 1, 0, "月底对账"),
    ("447700900123", [], "Oliver Smith", "", 1, 2, 0, ""),
    ("8613800001002", ["1002", "802"], "Café Müller (front desk)", "", 3, 1, 1, ""),
)
PAY_MEMOS = ("Alipay", "WeChat Pay", "Bank transfer", "Cash at counter", "充值 微信支付", "")


MINUTE_MS = 60_000
SWITCH_IP = "192.0.2.10"  # the softswitch's own address: localIp of registrations
# (pin, password, face value, days until expiry; negative: expired)
DEMO_CARDS = (
    ("9000000001", "111111", "10", 365),
    ("9000000002", "222222", "20", 365),
    ("9000000003", "333333", "50", 365),
    ("9000000004", "444444", "100", 365),
    ("9000000006", "666666", "50", -1),
)
USED_CARD = ("9000000005", "555555")  # used by 1002: its last top-up
# Registered phones: (e164, minutes since registering, seconds since the last refresh)
DEMO_REGISTRATIONS = (
    ("8613800001001", 26 * 60, 40),
    ("8613900001001", 3 * 60, 12),
    ("8613800001004", 9 * 60, 55),
    ("8613900001004", 9 * 60, 25),
    ("8613800002001", 50, 5),
    ("8613800003001", 4 * 24 * 60, 30),
)
# Calls in progress at the seed's now: (caller, callee, minutes since answer, minutes to go);
# since None: still ringing.
DEMO_CURRENT_CALLS = (
    ("8613800001004", "447700900456", 7, 25),
    ("8613900001001", "8613800003001", 2, 10),
    ("8613800002001", "8613912340000", None, 2),
)
_GATEWAYS = {"44": "GW-INTL-A", "861380000": "", "86": "GW-CN-MOBILE"}


def add_demo_cards(state: SwitchState, now_ms: int) -> None:
    for pin, password, money, days in DEMO_CARDS:
        state.phone_cards[pin] = new_phone_card(
            pin, password, money, expireTime=now_ms + days * DAY_MS, memo="Demo card"
        )
    pin, password = USED_CARD
    top_ups = [r for r in state.pay_history if r["account"] == "1002" and r["type"] == PAY_PAYMENT]
    record = top_ups[-1] if top_ups else None
    card = new_phone_card(
        pin,
        password,
        record["fee"] if record else Decimal("30"),
        expireTime=now_ms + 365 * DAY_MS,
        memo="Demo card",
    )
    if record is not None:
        record.update(payType=PAY_PHONE_CARD, memo=f"Phone card {pin}")
        card.update(usedTime=record["payTime"], usedAccount="1002")
    state.phone_cards[pin] = card


def add_demo_registrations(state: SwitchState, now_ms: int) -> None:
    for e164, minutes, seconds in DEMO_REGISTRATIONS:
        if e164 in state.phones:
            state.registrations[e164] = registration(
                e164, now_ms - minutes * MINUTE_MS, now_ms - seconds * 1000
            )


def registration(e164: str, register_ms: int, update_ms: int) -> dict[str, Any]:
    """An InfoPhoneOnline without currentCall (counted when asked)."""
    return {
        "e164": e164,
        "remoteIp": phone_ip(e164),  # the address its CDRs show as callerip
        "localIp": SWITCH_IP,
        "registerTime": register_ms,
        "updateTime": update_ms,
        "protocol": 1,  # SIP
        "cryptoType": 0,
        "productId": phone_device(e164),
    }


def add_demo_current_calls(state: SwitchState, now_ms: int) -> None:
    for index, (caller, callee, since, to_go) in enumerate(DEMO_CURRENT_CALLS):
        connected = 0 if since is None else now_ms - since * MINUTE_MS
        state.current_calls.append(
            current_call(caller, callee, connected, now_ms + to_go * MINUTE_MS, 7001 + index)
        )


def current_call(
    caller: str, callee: str, connected_ms: int, stop_ms: int, call_id: int
) -> dict[str, Any]:
    """A call in progress: InfoCurrentCall fields that do not change while it lasts.

    ``connected_ms`` 0: still ringing. GetCurrentCall shows it until ``stopTime`` (not on
    the wire) and computes keepTime and the RTP counters from the clock.
    """
    gateway = next((g for p, g in _GATEWAYS.items() if callee.startswith(p)), "")
    return {
        "callerE164": caller,
        "calleeE164": callee,
        "callerGatewayId": "",
        "calleeGatewayId": gateway,
        "connectedTime": connected_ms,
        "callCodec": "G729",
        "callerCodec": "G729",
        "calleeCodec": "G729" if gateway else "PCMA",
        "callerRtpIp": f"{phone_ip(caller)}:{10000 + call_id % 5000 * 2}",
        "calleeRtpIp": f"{SWITCH_IP}:{20000 + call_id % 5000 * 2}",
        "callerReceiveDtmf": 10,
        "callerSendDtmf": 10,
        "calleeReceiveDtmf": 10,
        "calleeSendDtmf": 10,
        "callerTerminal": phone_device(caller),
        "calleeTerminal": "" if gateway else phone_device(callee),
        "callerCryptoType": 0,
        "calleeCryptoType": 0,
        "callId": call_id,
        "stopTime": stop_ms,
    }
