"""Money (manual 2.21 Pay, 2.57 PayByPhoneCard, 2.45 GetPayHistory, 2.63 GetConsumption)."""

from __future__ import annotations

from decimal import Decimal

from .api import (
    Body,
    Registry,
    customer_of,
    phone_of,
)
from .faults import Faults
from .records import PAY_PHONE_CARD
from .state import SwitchState
from .wire import (
    CARD_EXPIRED,
    CARD_PASSWORD,
    CARD_USED,
    INPUT_ERROR,
    MISSING,
    NOT_FOUND,
    ApiError,
    opt_str,
    req_int,
    req_number,
    req_second_ms,
    req_str,
    req_str_list,
)

api = Registry()


# --- money --------------------------------------------------------------------------------

OWNER_ACCOUNT, OWNER_PHONE = 2, 6


def _owner_account(state: SwitchState, owner: str, owner_type: int) -> str:
    if owner_type == OWNER_ACCOUNT:
        account = owner
    elif owner_type == OWNER_PHONE:
        account = phone_of(state, owner)["account"]
    else:  # 11 phone card, 25 bound number, 44 mapping gateway: not emulated
        raise ApiError(INPUT_ERROR)
    customer_of(state, account)
    return account


def _info_pay(state: SwitchState, account: str, paid: Decimal) -> Body:
    customer = state.customers[account]
    info = {
        "account": account,
        "money": customer["money"],
        "validTime": customer["validTime"],
        "payMoney": paid,
    }
    return {"infoPay": info}


@api("Pay", write=True)
def pay(state: SwitchState, faults: Faults, body: Body) -> Body:
    owner = req_str(body, "ownerName", 64)
    owner_type = req_int(body, "ownerType")
    money = req_number(body, "money")
    memo = opt_str(body, "memo", 255) or ""
    account = _owner_account(state, owner, owner_type)
    state.pay(account, money, memo=memo)
    return _info_pay(state, account, money)


def _usable_card(state: SwitchState, pin: str) -> Body:
    card = state.phone_cards.get(pin)
    if card is None:
        raise ApiError(NOT_FOUND)
    if card["usedTime"] is not None:
        raise ApiError(CARD_USED)
    if card["expireTime"] and card["expireTime"] < state.now_ms():
        raise ApiError(CARD_EXPIRED)
    return card


@api("PayByPhoneCard", write=True)
def pay_by_phone_card(state: SwitchState, faults: Faults, body: Body) -> Body:
    owner = req_str(body, "ownerName", 64)
    owner_type = req_int(body, "ownerType")
    pin = req_str(body, "pin", 64)
    password = opt_str(body, "password", 64)
    memo = opt_str(body, "memo", 255) or ""
    account = _owner_account(state, owner, owner_type)
    card = _usable_card(state, pin)
    if password is None:  # "Null: Check Pin Only": nothing is paid
        return _info_pay(state, account, Decimal("0"))
    if password != card["password"]:
        raise ApiError(CARD_PASSWORD)
    record = state.pay(account, card["money"], pay_type=PAY_PHONE_CARD, memo=memo)
    card["usedTime"], card["usedAccount"] = record["payTime"], account
    return _info_pay(state, account, card["money"])


_CARD_FIELDS = (
    "money",
    "limitMoney",
    "bitsOfConfig",
    "feeRateGroup",
    "expireTime",
    "usedTime",
    "usedAccount",
    "agentAccount",
    "suiteNames",
    "memo",
)


@api("GetPhoneCard")
def get_phone_card(state: SwitchState, faults: Faults, body: Body) -> Body:
    pins = req_str_list(body, "pin", 255)
    password = opt_str(body, "Password", 64)  # capital P, as the manual spells it
    cards = [state.phone_cards[p] for p in dict.fromkeys(pins) if p in state.phone_cards]
    if password is not None and any(c["password"] != password for c in cards):
        raise ApiError(CARD_PASSWORD)
    answer = [{k: c[k] for k in _CARD_FIELDS} for c in cards]
    for entry in answer:
        entry["suiteNames"] = list(entry["suiteNames"])
    return {"infoPhoneCards": answer}


def _history(state: SwitchState, body: Body, records: list[Body], time_key: str) -> list[Body]:
    """Records of an account, or of an agent's customers, in a yyyyMMddHHmmss window."""
    account = opt_str(body, "account", 64)
    agent = opt_str(body, "agentAccount", 64)
    if not account and not agent:
        raise ApiError(MISSING)
    begin = req_second_ms(body, "beginTime", state.tz)
    end = req_second_ms(body, "endTime", state.tz) + 999  # the whole last second
    if account:
        customer_of(state, account)
        accounts = {account}
    else:
        customer_of(state, agent)
        accounts = set(state.customers_of_agent(agent))
    return [dict(r) for r in records if r["account"] in accounts and begin <= r[time_key] <= end]


@api("GetPayHistory")
def get_pay_history(state: SwitchState, faults: Faults, body: Body) -> Body:
    records = _history(state, body, state.pay_history, "payTime")
    if not faults.pay_history_memo:
        for record in records:
            record.pop("memo", None)
    return {"infoPayHistorys": records}


@api("GetConsumption")
def get_consumption(state: SwitchState, faults: Faults, body: Body) -> Body:
    return {"infoConsumptions": _history(state, body, state.consumptions, "time")}
