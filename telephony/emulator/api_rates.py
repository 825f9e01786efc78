"""Fee rates (manual 2.39 GetFeeRateGroup, 2.43 GetFeeRate, 2.61 GetAvailableTime)."""

from __future__ import annotations

from decimal import Decimal

from .api import Body, Registry, choice, customer_of, phone_of, text
from .faults import Faults
from .rates import seconds_for
from .state import SwitchState
from .wire import (
    INPUT_ERROR,
    NOT_FOUND,
    ApiError,
    opt_str_list,
    req_int,
    req_str,
)

api = Registry()

# timeRemain < 0 is an end reason; the manual gives no values, these are ours
# (docs/EMULATOR.md, "GetAvailableTime").
END_NO_RATE = -1  # no rate group, or no prefix of the group matches the callee
END_NO_MONEY = -2  # money + limitMoney does not pay for the first step
END_ACCOUNT_LOCKED = -3  # the account's lockType is 1
END_PHONE_LOCKED = -4  # the phone may not call out (lockType 1 or 3)
END_EXPIRED = -5  # the account's validTime has passed
END_RATE_LOCKED = -6  # the matching rate has lockType 1
END_CALL_LEVEL = -7  # the rate's type is above the phone's callLevel
BILLING_PHONE = 0  # billingMode: the only one emulated
_PHONE_LOCKS_OUT = (1, 3)


@api("GetFeeRateGroup")
def get_fee_rate_group(state: SwitchState, faults: Faults, body: Body) -> Body:
    names = opt_str_list(body, "names")
    wanted = state.fee_rate_groups if not names else names
    groups = [state.fee_rate_groups[n] for n in wanted if n in state.fee_rate_groups]
    return {"infoFeeRateGroups": [{"name": g["name"], "memo": g["memo"]} for g in groups]}


@api("GetFeeRate")
def get_fee_rate(state: SwitchState, faults: Faults, body: Body) -> Body:
    group = req_str(body, "feeRateGroup", 64)
    area_codes = opt_str_list(body, "areaCodes")
    if group not in state.fee_rate_groups:
        raise ApiError(NOT_FOUND)
    rates = state.fee_rates.get(group, [])
    if area_codes:
        wanted = set(area_codes)
        rates = [r for r in rates if r["areaCode"] in wanted]
    return {"infoFeeRates": [_rate_answer(r) for r in rates]}


def _rate_answer(rate: Body) -> Body:
    return {**rate, "infoFeeRateSections": [dict(s) for s in rate["infoFeeRateSections"]]}


_AVAILABLE_FIELDS = {
    "calleeEndpointType": choice(0, 1),
    "routingGateway": text(64),
    "calleeToGatewayE164": text(64),
}


@api("GetAvailableTime")
def get_available_time(state: SwitchState, faults: Faults, body: Body) -> Body:
    billing_name = req_str(body, "billingName", 64)
    billing_mode = req_int(body, "billingMode")
    callee = req_str(body, "calleeE164", 64)
    for name, read in _AVAILABLE_FIELDS.items():
        read(body, name)
    if billing_mode not in (0, 1, 2, 3, 4):
        raise ApiError(INPUT_ERROR)
    if billing_mode != BILLING_PHONE:  # mapping gateways, bound numbers, cards: not emulated
        raise ApiError(INPUT_ERROR)
    phone = phone_of(state, billing_name)
    customer = customer_of(state, phone["account"])
    info = {
        "account": customer["account"],
        "accountName": customer["name"],
        "accountMoney": customer["money"],
        "timeRemain": _time_remain(state, phone, customer, callee),
    }
    return {"InfoAvailableTime": info}  # capital I, as the manual and real clients spell it


def _time_remain(state: SwitchState, phone: Body, customer: Body, callee: str) -> int:
    refusal = _account_refusal(state, phone, customer)
    if refusal:
        return refusal
    group = phone["feerateGroup"] or customer["feeRateGroup"]  # the phone's group wins
    rate = state.fee_rate_for(group, callee) if group else None
    if rate is None:
        return END_NO_RATE
    if rate["lockType"] == 1:
        return END_RATE_LOCKED
    if rate["type"] > phone["callLevel"]:
        return END_CALL_LEVEL
    available = customer["money"] + customer["limitMoney"]
    seconds = seconds_for(available, rate) if available > Decimal("0") else 0
    return seconds if seconds > 0 else END_NO_MONEY


def _account_refusal(state: SwitchState, phone: Body, customer: Body) -> int:
    if customer["lockType"] == 1:
        return END_ACCOUNT_LOCKED
    if phone["lockType"] in _PHONE_LOCKS_OUT:
        return END_PHONE_LOCKED
    if customer["validTime"] and customer["validTime"] < state.now_ms():
        return END_EXPIRED
    return 0
