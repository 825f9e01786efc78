"""The records the emulated softswitch keeps, in the manual's wire format, and constants.

The bottom of the emulator's stack: only the standard library. InfoCustomer, InfoPhone,
InfoPhoneCard and the pay-history codes are built here so every layer above agrees on them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

DAY_MS = 86_400_000
# Seen on a real install: validTime = startTime + 30 days when none is given (system default).
DEFAULT_VALID_MS = 30 * DAY_MS
MONEY_KEYS = frozenset(
    {
        "money",
        "limitMoney",
        "fee",
        "customerMoney",
        "suiteFee",
        "agentFee",
        "agentSuiteFee",
        "monthlyMoneyMinimum",
        "monthlyMoneyMaximum",
        "monthlyRentFee",
        "ivrFee",
    }
)

PAY_PAYMENT, PAY_CREDIT, PAY_CREATE_ACCOUNT, PAY_MAKE_ZERO = 0, 1, 2, 3
PAY_CASH, PAY_PHONE_CARD, PAY_OTHER = 0, 2, 5
CONSUMPTION_PHONE_RENT = 1

_PHONE_DEFAULTS: dict[str, Any] = {
    "password": "",
    "displayNumber": "",
    "lockType": 0,
    "callLevel": 5,
    "feerateGroup": "",
    "monthlyMoneyMinimum": Decimal("0"),
    "monthlyMoneyMaximum": Decimal("0"),
    "monthlyRentFee": Decimal("0"),
    "rewriteRulesOutCallee": "",
    "rewriteRulesInCallee": "",
    "rewriteRulesInCaller": "",
    "routingGatewayGroupsAllow": False,
    "routingGatewayGroups": "",
    "account": "",
    "equipment": "",
    "calleeBilling": False,
    "customerPassword": "",
    "lineCallIn": -1,
    "lineCallOut": -1,
    "lineCapacity": -1,
    "phonebookLimit": 0,
    "callerLimitE164GroupsAllow": False,
    "callerLimitE164Groups": "",
    "calleeLimitE164Allow": False,
    "calleeLimitE164Groups": "",
    "memo": "",
    "infoPhoneValueAdded": {
        "callerIdDisplay": True,
        "callTransfer": False,
        "doNotDisturb": False,
        "periodForwarding": False,
        "unconditionalForward": False,
        "noAnswerForward": False,
        "offlineForward": False,
        "busyForward": False,
        "colorRing": False,
        "remoteColorRingPassthrough": False,
        "unableToConnectVoicePrompts": 0,
        "callRemainingTimePrompts": 0,
        "balanceNotEnoughAlarm": 0,
        "voiceMail": False,
        "voiceMailCheckPassword": False,
        "voiceMailMaxNumber": -1,
        "voiceMailExpireDay": -1,
        "voiceMailAudioType": 0,
    },
    "infoPhoneAdditional": {
        "registerType": 1,
        "protocol": 1,
        "rtpRelay": 0,
        "rtpInterruptDetection": 0,
        "callDurationLimit": -1,
        "useCallerPhoneDisplay": 0,
        "noBillingToPhone": 0,
        "displayCallerShortNumber": False,
        "useRoutingGatewayNotOnline": 0,
    },
}
PHONE_FIELDS = frozenset(_PHONE_DEFAULTS)
_NESTED_PHONE_FIELDS = ("infoPhoneValueAdded", "infoPhoneAdditional")


def new_customer(account: str, start_ms: int, **fields: Any) -> dict[str, Any]:
    """An InfoCustomer (without todayConsumption, which is computed) with manual defaults."""
    customer: dict[str, Any] = {
        "account": account,
        "name": account,  # as in the real answer of the facts sheet
        "money": Decimal("0"),
        "limitMoney": Decimal("0"),
        "feeRateGroup": "",
        "type": 0,
        "lockType": 0,
        "agentAccount": "",
        "phoneBookLimit": 0,
        "startTime": start_ms,
        "validTime": start_ms + DEFAULT_VALID_MS,
        "memo": "",
        "infoCustomerAdditional": {"cardType": 0, "reportType": 0},
    }
    additional = fields.pop("infoCustomerAdditional", None) or {}
    customer.update(fields)
    customer["infoCustomerAdditional"].update(additional)
    return customer


def new_phone(e164: str, account: str, **fields: Any) -> dict[str, Any]:
    """An InfoPhone with defaults; nested setting objects are merged over the defaults."""
    phone = {"e164": e164, **_PHONE_DEFAULTS, "account": account}
    for name in _NESTED_PHONE_FIELDS:  # copy, so phones never share their settings
        phone[name] = dict(phone[name])
    for name, value in fields.items():
        if isinstance(value, dict) and isinstance(phone.get(name), dict):
            phone[name].update(value)
        else:
            phone[name] = value
    return phone


# --- phone cards (manual 2.57 PayByPhoneCard, 2.78 InfoPhoneCard) --------------------------

CARD_RECHARGE = 1 << 4  # bitsOfConfig: recharge
CARD_MONEY_TO_BALANCE = 1 << 7  # bitsOfConfig: money charged into the account balance
_CARD_TEXT = {"pin": 64, "password": 64, "feeRateGroup": 64, "agentAccount": 64, "memo": 255}


def new_phone_card(pin: Any, password: Any, money: Any, **fields: Any) -> dict[str, Any]:
    """An InfoPhoneCard (plus its pin and password); ValueError names a bad field.

    ``money`` may be an int, a float, a Decimal or a numeric string (the control endpoint
    reads JSON floats); ``expireTime`` 0 means the card never expires.
    """
    card: dict[str, Any] = {
        "pin": pin,
        "password": password,
        "money": _card_money(money),
        "limitMoney": Decimal("0"),
        "bitsOfConfig": CARD_RECHARGE | CARD_MONEY_TO_BALANCE,
        "feeRateGroup": "",
        "expireTime": 0,
        "usedTime": None,
        "usedAccount": None,
        "agentAccount": "",
        "suiteNames": [],
        "memo": "",
    }
    for name, value in fields.items():
        if name not in card or name in ("pin", "password", "money"):
            raise ValueError(f"unknown phone card field {name!r}")
        card[name] = value
    _check_card(card)
    return card


def _card_money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"bad phone card money {value!r}")
    try:
        money = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError(f"bad phone card money {value!r}") from exc
    if not money.is_finite() or money <= 0:
        raise ValueError(f"bad phone card money {value!r}")
    return money


def _check_card(card: dict[str, Any]) -> None:
    for name, max_len in _CARD_TEXT.items():
        value = card[name]
        if not isinstance(value, str) or len(value) > max_len or (name == "pin" and not value):
            raise ValueError(f"bad phone card {name} {value!r}")
    expire = card["expireTime"]
    if isinstance(expire, bool) or not isinstance(expire, int) or expire < 0:
        raise ValueError(f"bad phone card expireTime {expire!r}")
    try:
        card["limitMoney"] = Decimal(str(card["limitMoney"]))
    except ArithmeticError as exc:
        raise ValueError(f"bad phone card limitMoney {card['limitMoney']!r}") from exc
