"""The emulator's fee rates, available time, phone cards, registrations, current calls and
phone changes, over real HTTP (manual 2.6, 2.7, 2.9, 2.20, 2.39, 2.43, 2.57, 2.61, 2.78)."""

from __future__ import annotations

import json
import math
import threading
from decimal import Decimal
from typing import Any

import pytest
import requests

from telephony.emulator import EmulatorServer, EmulatorState
from telephony.emulator.rates import seconds_for
from tests import emulator_fixtures

vos_emulator = emulator_fixtures.vos_emulator
vos_emulator_empty = emulator_fixtures.vos_emulator_empty

NOT_FOUND, INPUT_ERROR, MISSING = -10007, -10124, -12103
CARD_PASSWORD, CARD_USED, CARD_EXPIRED = -10116, -10117, -10118
ALL_TIME = {"beginTime": "20000101000000", "endTime": "20991231235959"}
PHONE_1001 = "8613800001001"


def post(server: EmulatorServer, name: str, body: Any, timeout: float = 10) -> requests.Response:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "text/html;charset=UTF-8"}
    return requests.post(f"{server.url}/{name}", data=data, headers=headers, timeout=timeout)


def call(server: EmulatorServer, name: str, body: Any) -> dict[str, Any]:
    response = post(server, name, body)
    assert response.status_code == 200
    return response.json(parse_float=Decimal)


def available(server: EmulatorServer, e164: str, callee: str) -> int:
    body = {"billingName": e164, "billingMode": 0, "calleeE164": callee}
    answer = call(server, "GetAvailableTime", body)
    assert answer["retCode"] == 0, answer
    return answer["InfoAvailableTime"]["timeRemain"]


def set_money(server: EmulatorServer, account: str, money: str) -> None:
    with server.state.lock:
        server.state.customers[account]["money"] = Decimal(money)


# --- fee rates ----------------------------------------------------------------------------


def test_fee_rate_groups_list_all_or_the_named_ones(vos_emulator):
    groups = call(vos_emulator, "GetFeeRateGroup", {})["infoFeeRateGroups"]
    names = [g["name"] for g in groups]
    assert {"retail-std", "wholesale", "深圳标准"} <= set(names)
    assert all(set(g) == {"name", "memo"} for g in groups)
    named = call(vos_emulator, "GetFeeRateGroup", {"names": ["wholesale", "nope"]})
    assert [g["name"] for g in named["infoFeeRateGroups"]] == ["wholesale"]
    bad = call(vos_emulator, "GetFeeRateGroup", {"names": "wholesale"})
    assert bad["retCode"] == INPUT_ERROR


def test_every_demo_customer_is_in_an_existing_group(vos_emulator):
    groups = {g["name"] for g in call(vos_emulator, "GetFeeRateGroup", {})["infoFeeRateGroups"]}
    accounts = call(vos_emulator, "GetAllCustomers", {})["accounts"]
    customers = call(vos_emulator, "GetCustomer", {"accounts": accounts})["infoCustomers"]
    assert {c["feeRateGroup"] for c in customers} <= groups
    by_account = {c["account"]: c["feeRateGroup"] for c in customers}
    assert (by_account["1001"], by_account["1004"], by_account["2001"]) == (
        "retail-std",
        "wholesale",
        "深圳标准",
    )


def test_get_fee_rate_returns_the_groups_table_in_the_manuals_fields(vos_emulator):
    answer = call(vos_emulator, "GetFeeRate", {"feeRateGroup": "retail-std"})
    rates = answer["infoFeeRates"]
    assert 50 <= len(rates) <= 200
    assert list(rates[0]) == [
        "feePrefix",
        "areaCode",
        "type",
        "areaName",
        "infoFeeRateSections",
        "fee",
        "period",
        "lockType",
        "ivrFee",
        "ivrPeriod",
    ]
    by_prefix = {r["feePrefix"]: r for r in rates}
    for prefix in ("86139", "1", "44", "91", "977", "97798"):
        assert prefix in by_prefix
    assert by_prefix["447"]["fee"] == Decimal("0.18") and by_prefix["447"]["type"] == 5
    assert by_prefix["86755"]["type"] == 2 and by_prefix["861380000"]["type"] == 1
    assert by_prefix["9771"]["infoFeeRateSections"] == [
        {"fee": Decimal("0.3"), "time": 60, "position": 1}
    ]
    assert {r["type"] for r in rates} == {1, 2, 4, 5}
    wholesale = call(vos_emulator, "GetFeeRate", {"feeRateGroup": "wholesale"})["infoFeeRates"]
    assert {r["feePrefix"]: r["fee"] for r in wholesale}["447"] == Decimal("0.126")


def test_get_fee_rate_filters_by_area_code_and_refuses_bad_requests(vos_emulator):
    body = {"feeRateGroup": "retail-std", "areaCodes": ["44", "977"]}
    rates = call(vos_emulator, "GetFeeRate", body)["infoFeeRates"]
    assert sorted(r["areaCode"] for r in rates) == ["44", "977"]
    assert call(vos_emulator, "GetFeeRate", {})["retCode"] == MISSING
    assert call(vos_emulator, "GetFeeRate", {"feeRateGroup": "nope"}) == {
        "retCode": NOT_FOUND,
        "exception": "Not found, operation failed.",
    }
    assert call(vos_emulator, "GetFeeRate", {"feeRateGroup": 7})["retCode"] == INPUT_ERROR


def test_a_scale_seed_can_carry_a_large_rate_table():
    state = EmulatorState.scale(3, agents=1, fee_rates=20_000)
    with EmulatorServer(state=state) as server:
        rates = call(server, "GetFeeRate", {"feeRateGroup": "scale"})["infoFeeRates"]
        assert len(rates) == 20_000
        assert len({r["feePrefix"] for r in rates}) == 20_000
        assert available(server, "8617000000001", "447700900123") > 0
    assert EmulatorState.from_spec("scale:3:0:500").seed_spec == "scale:3:0:500"


# --- available time -----------------------------------------------------------------------


def test_available_time_is_what_balance_and_overdraft_buy_at_the_longest_prefix(vos_emulator):
    set_money(vos_emulator, "1001", "10")
    # 447 (0.18 per 60 s, 6 s steps) wins over 44: 10 / 0.018 = 555 steps of 6 s
    assert available(vos_emulator, PHONE_1001, "447700900123") == 555 * 6
    answer = call(
        vos_emulator,
        "GetAvailableTime",
        {"billingName": PHONE_1001, "billingMode": 0, "calleeE164": "4420712345678"},
    )
    assert answer["InfoAvailableTime"] == {
        "account": "1001",
        "accountName": "张伟",
        "accountMoney": Decimal("10.0"),
        "timeRemain": 1250 * 6,  # 0.08 per 60 s
    }
    # a negative balance within the overdraft still buys time: 1003 has limitMoney 100
    customer = vos_emulator.state.customers["1003"]
    rate = vos_emulator.state.fee_rate_for("retail-std", "8613912345678")
    expected = seconds_for(customer["money"] + customer["limitMoney"], rate)
    assert customer["money"] < 0 < expected
    assert available(vos_emulator, "8613800001003", "8613912345678") == expected


def test_sections_are_charged_first_and_free_calls_are_unlimited(vos_emulator):
    set_money(vos_emulator, "1001", "1")
    # 9771: a flat 0.30 for the first 60 s, then 0.15 per 60 s in 6 s steps (0.015 a step)
    assert available(vos_emulator, PHONE_1001, "97714123456") == 60 + math.floor(0.7 / 0.015) * 6
    set_money(vos_emulator, "1001", "0.2")
    assert available(vos_emulator, PHONE_1001, "97714123456") == -2  # not even the section
    assert available(vos_emulator, PHONE_1001, "8613800003001") == 2_147_483_647  # on-net


def test_the_phones_fee_rate_group_wins_over_the_accounts(vos_emulator):
    set_money(vos_emulator, "1001", "10")
    body = {"e164": PHONE_1001, "feerateGroup": "wholesale"}
    assert call(vos_emulator, "ModifyPhone", body)["retCode"] == 0
    assert available(vos_emulator, PHONE_1001, "447700900123") == math.floor(10 / 0.0126) * 6


@pytest.mark.parametrize(
    ("change", "callee", "reason"),
    [
        ({}, "99912345", -1),  # no prefix matches
        ({"money": "-100"}, "447700900123", -2),  # money + limitMoney is 0
        ({"lockType": 1}, "447700900123", -3),
        ({"phone": {"lockType": 1}}, "447700900123", -4),
        ({"validTime": 1}, "447700900123", -5),
        ({}, "881612345678", -6),  # a locked rate
        ({"phone": {"callLevel": 4}}, "447700900123", -7),  # international needs level 5
        ({"feeRateGroup": ""}, "447700900123", -1),  # no group at all
    ],
)
def test_available_time_refusals_are_negative_end_reasons(vos_emulator, change, callee, reason):
    state = vos_emulator.state
    with state.lock:
        customer = state.customers["1005"]
        customer["limitMoney"] = Decimal("100")
        state.phones["8613800001005"].update(change.pop("phone", {}))
        customer.update({k: Decimal(v) if k == "money" else v for k, v in change.items()})
    assert available(vos_emulator, "8613800001005", callee) == reason


def test_the_demos_locked_customer_gets_no_time(vos_emulator):
    assert available(vos_emulator, "8613800001006", "447700900123") == -3


@pytest.mark.parametrize(
    ("body", "ret_code"),
    [
        ({"billingName": "000", "billingMode": 0, "calleeE164": "44"}, NOT_FOUND),
        ({"billingName": PHONE_1001, "billingMode": 3, "calleeE164": "44"}, INPUT_ERROR),
        ({"billingName": PHONE_1001, "billingMode": 9, "calleeE164": "44"}, INPUT_ERROR),
        ({"billingName": PHONE_1001, "billingMode": "0", "calleeE164": "44"}, INPUT_ERROR),
        ({"billingName": PHONE_1001, "billingMode": 0}, MISSING),
        ({"billingMode": 0, "calleeE164": "44"}, MISSING),
        ({"billingName": PHONE_1001, "calleeE164": "44"}, MISSING),
        (
            {"billingName": PHONE_1001, "billingMode": 0, "calleeE164": "4", "routingGateway": 1},
            INPUT_ERROR,
        ),
    ],
)
def test_available_time_refuses_bad_requests(vos_emulator, body, ret_code):
    answer = call(vos_emulator, "GetAvailableTime", body)
    assert answer["retCode"] == ret_code and "InfoAvailableTime" not in answer


# --- phone cards --------------------------------------------------------------------------


def redeem(server: EmulatorServer, pin: str, password: str | None, owner: str = "1002"):
    body: dict[str, Any] = {"ownerName": owner, "ownerType": 2, "pin": pin}
    if password is not None:
        body["password"] = password
    return call(server, "PayByPhoneCard", body)


def test_a_phone_card_credits_the_account_once_and_writes_pay_history(vos_emulator):
    state = vos_emulator.state
    before = state.balance("1002")
    answer = redeem(vos_emulator, "9000000003", "333333")
    assert answer["retCode"] == 0
    assert answer["infoPay"]["account"] == "1002"
    assert answer["infoPay"]["payMoney"] == Decimal("50")
    assert answer["infoPay"]["money"] == before + 50 == state.balance("1002")
    history = call(vos_emulator, "GetPayHistory", {"account": "1002", **ALL_TIME})
    last = history["infoPayHistorys"][-1]
    assert (last["type"], last["payType"], last["fee"]) == (0, 2, Decimal("50"))
    assert last["customerMoney"] == before + 50
    again = redeem(vos_emulator, "9000000003", "333333")
    assert again == {
        "retCode": CARD_USED,
        "exception": "Phone card has been used, operation failed.",
    }
    assert state.balance("1002") == before + 50
    card = call(vos_emulator, "GetPhoneCard", {"pin": ["9000000003"]})["infoPhoneCards"][0]
    assert card["usedAccount"] == "1002" and card["usedTime"] == last["payTime"]


def test_a_phone_card_pays_a_phones_account(vos_emulator):
    before = vos_emulator.state.balance("1001")
    body = {"ownerName": PHONE_1001, "ownerType": 6, "pin": "9000000001", "password": "111111"}
    assert call(vos_emulator, "PayByPhoneCard", body)["infoPay"]["account"] == "1001"
    assert vos_emulator.state.balance("1001") == before + 10


def test_without_a_password_the_pin_is_only_checked(vos_emulator):
    before = vos_emulator.state.balance("1002")
    answer = redeem(vos_emulator, "9000000002", None)
    assert answer["retCode"] == 0 and answer["infoPay"]["payMoney"] == 0
    assert vos_emulator.state.balance("1002") == before
    assert vos_emulator.state.phone_cards["9000000002"]["usedTime"] is None
    assert redeem(vos_emulator, "9000000002", "222222")["infoPay"]["payMoney"] == 20


@pytest.mark.parametrize(
    ("pin", "password", "owner", "ret_code"),
    [
        ("9000000004", "wrong", "1002", CARD_PASSWORD),
        ("9000000004", "", "1002", CARD_PASSWORD),
        ("9000000006", "666666", "1002", CARD_EXPIRED),
        ("9000000005", "555555", "1002", CARD_USED),  # the demo's used card
        ("1234", "1", "1002", NOT_FOUND),
        ("9000000004", "444444", "ghost", NOT_FOUND),
    ],
)
def test_phone_card_refusals_change_nothing(vos_emulator, pin, password, owner, ret_code):
    before = vos_emulator.state.balance("1002")
    assert redeem(vos_emulator, pin, password, owner)["retCode"] == ret_code
    assert vos_emulator.state.balance("1002") == before
    if pin == "9000000004":
        assert vos_emulator.state.phone_cards[pin]["usedTime"] is None


def test_phone_card_requests_are_checked(vos_emulator):
    base = {"ownerName": "1002", "ownerType": 2, "pin": "9000000004", "password": "444444"}
    for missing in ("ownerName", "ownerType", "pin"):
        body = {k: v for k, v in base.items() if k != missing}
        assert call(vos_emulator, "PayByPhoneCard", body)["retCode"] == MISSING
    assert call(vos_emulator, "PayByPhoneCard", {**base, "ownerType": 11})["retCode"] == INPUT_ERROR
    assert call(vos_emulator, "PayByPhoneCard", {**base, "pin": 9})["retCode"] == INPUT_ERROR


def test_the_demos_used_card_is_in_the_pay_history(vos_emulator):
    records = call(vos_emulator, "GetPayHistory", {"account": "1002", **ALL_TIME})
    card = [r for r in records["infoPayHistorys"] if r["payType"] == 2]
    assert len(card) == 1 and card[0]["memo"] == "Phone card 9000000005"
    state_card = vos_emulator.state.phone_cards["9000000005"]
    assert state_card["money"] == card[0]["fee"] and state_card["usedAccount"] == "1002"


def test_two_clients_redeeming_one_card_at_once_credit_it_once(vos_emulator):
    vos_emulator.add_phone_card("5550001", "pw", "25.5")
    before = vos_emulator.state.balance("3001")
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def redeem_it() -> None:
        barrier.wait()
        codes.append(redeem(vos_emulator, "5550001", "pw", "3001")["retCode"])

    threads = [threading.Thread(target=redeem_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [CARD_USED, 0]
    assert vos_emulator.state.balance("3001") == before + Decimal("25.5")


def test_a_card_redeemed_when_the_answer_is_dropped_is_applied(vos_emulator):
    vos_emulator.faults.drop_after_pay_rate = 1.0
    before = vos_emulator.state.balance("1002")
    with pytest.raises(requests.ConnectionError):
        body = {"ownerName": "1002", "ownerType": 2, "pin": "9000000004", "password": "444444"}
        post(vos_emulator, "PayByPhoneCard", body)
    assert vos_emulator.state.balance("1002") == before + 100
    vos_emulator.faults.drop_after_pay_rate = 0.0
    assert redeem(vos_emulator, "9000000004", "444444")["retCode"] == CARD_USED


def test_cards_are_added_through_the_control_endpoint(vos_emulator):
    url = f"{vos_emulator.base_url}/_emulator/cards"
    card = {"pin": "7770001", "password": "9", "money": 12.5, "memo": "test"}
    response = requests.post(url, json=card, timeout=5)
    assert response.status_code == 200
    assert any(c["pin"] == "7770001" for c in response.json())
    assert requests.post(url, json={"pin": "x", "password": "y"}, timeout=5).status_code == 400
    bad = {"pin": "x", "password": "y", "money": -1}
    assert "money" in requests.post(url, json=bad, timeout=5).json()["error"]
    assert redeem(vos_emulator, "7770001", "9")["infoPay"]["payMoney"] == Decimal("12.5")
    assert len(requests.get(url, timeout=5).json()) == len(vos_emulator.state.phone_cards)


def test_get_phone_card_answers_in_the_manuals_fields(vos_emulator):
    answer = call(vos_emulator, "GetPhoneCard", {"pin": ["9000000001", "nope"]})
    [card] = answer["infoPhoneCards"]
    assert "password" not in card and card["money"] == 10 and "usedTime" not in card
    wrong = {"pin": ["9000000001"], "Password": "x"}
    assert call(vos_emulator, "GetPhoneCard", wrong)["retCode"] == CARD_PASSWORD
    assert call(vos_emulator, "GetPhoneCard", {})["retCode"] == MISSING


# --- registrations and calls in progress --------------------------------------------------


def test_phone_online_lists_registered_phones_only(vos_emulator):
    numbers = ["8613800001004", "8613800001002", "000", PHONE_1001]
    answer = call(vos_emulator, "GetPhoneOnline", {"e164s": numbers})
    online = {p["e164"]: p for p in answer["infoPhoneOnlines"]}
    assert set(online) == {"8613800001004", PHONE_1001}
    phone = online["8613800001004"]
    assert list(phone) == [
        "e164",
        "currentCall",
        "remoteIp",
        "localIp",
        "registerTime",
        "updateTime",
        "protocol",
        "cryptoType",
        "productId",
    ]
    assert phone["currentCall"] == 1 and online[PHONE_1001]["currentCall"] == 0
    assert phone["protocol"] == 1 and phone["productId"]
    assert phone["registerTime"] < phone["updateTime"] <= vos_emulator.state.now_ms()
    assert call(vos_emulator, "GetPhoneOnline", {})["retCode"] == MISSING
    assert call(vos_emulator, "DeletePhone", {"e164": "8613800001004"})["retCode"] == 0
    assert (
        call(vos_emulator, "GetPhoneOnline", {"e164s": numbers})["infoPhoneOnlines"][0]["e164"]
        == PHONE_1001
    )


def test_current_calls_show_duration_or_state_and_are_counted(vos_emulator):
    calls = call(vos_emulator, "GetCurrentCall", {})["infoCurrentCalls"]
    assert len(calls) == 3
    talking = [c for c in calls if c["keepTime"] > 0]
    ringing = [c for c in calls if c["keepTime"] < 0]
    assert len(talking) == 2 and ringing[0]["keepTime"] == -11
    assert ringing[0]["connectedTime"] == 0
    first = talking[0]
    assert first["callerInfoRtpFlowAudio"]["rtpPackets"] > 0
    assert "stopTime" not in first
    assert list(first)[:6] == [
        "callerE164",
        "calleeE164",
        "callerGatewayId",
        "calleeGatewayId",
        "connectedTime",
        "keepTime",
    ]
    mine = call(vos_emulator, "GetCurrentCall", {"callerE164s": ["8613800001004"]})
    assert [c["calleeE164"] for c in mine["infoCurrentCalls"]] == ["447700900456"]
    to = call(vos_emulator, "GetCurrentCall", {"calleeE164s": ["8613800003001"]})
    assert len(to["infoCurrentCalls"]) == 1
    assert vos_emulator.calls["GetCurrentCall"] == 3
    counters = requests.get(f"{vos_emulator.base_url}/_emulator/calls", timeout=5).json()
    assert counters["GetCurrentCall"] == 3


def test_current_calls_end_when_their_time_is_up(vos_emulator):
    now = vos_emulator.state.clock()
    vos_emulator.state.clock = lambda: now + 3600
    assert call(vos_emulator, "GetCurrentCall", {})["infoCurrentCalls"] == []
    online = call(vos_emulator, "GetPhoneOnline", {"e164s": ["8613800001004"]})
    assert online["infoPhoneOnlines"][0]["currentCall"] == 0


# --- ModifyPhone and DeletePhone ----------------------------------------------------------


def test_modify_phone_changes_password_lock_call_level_and_monthly_maximum(vos_emulator):
    body = {
        "e164": PHONE_1001,
        "password": "n3w-s1p",
        "lockType": 2,
        "callLevel": 4,
        "monthlyMoneyMaximum": 30.5,
    }
    assert call(vos_emulator, "ModifyPhone", body)["retCode"] == 0
    phone = call(vos_emulator, "GetPhone", {"e164s": [PHONE_1001]})["infoPhones"][0]
    assert (phone["password"], phone["lockType"], phone["callLevel"]) == ("n3w-s1p", 2, 4)
    assert phone["monthlyMoneyMaximum"] == Decimal("30.5")
    assert phone["displayNumber"] == PHONE_1001  # untouched


@pytest.mark.parametrize(
    ("change", "ret_code"),
    [
        ({"lockType": 4}, INPUT_ERROR),
        ({"callLevel": 3}, INPUT_ERROR),
        ({"monthlyMoneyMaximum": -1}, INPUT_ERROR),
        ({"monthlyMoneyMaximum": "10"}, INPUT_ERROR),
        ({"password": "x" * 33}, INPUT_ERROR),
        ({"password": 1234}, INPUT_ERROR),
        ({"feerateGroup": "nope"}, NOT_FOUND),
        ({"account": "ghost"}, NOT_FOUND),
        ({"e164": "000"}, NOT_FOUND),
        ({"e164": ""}, MISSING),
    ],
)
def test_modify_phone_refuses_bad_values_and_changes_nothing(vos_emulator, change, ret_code):
    before = dict(vos_emulator.state.phones[PHONE_1001])
    body = {"e164": PHONE_1001, "password": "changed", **change}
    if "password" in change:
        body = {"e164": PHONE_1001, **change}
    assert call(vos_emulator, "ModifyPhone", body)["retCode"] == ret_code
    assert vos_emulator.state.phones[PHONE_1001] == before


def test_delete_phone_removes_it_once(vos_emulator):
    assert call(vos_emulator, "DeletePhone", {"e164": PHONE_1001})["retCode"] == 0
    assert call(vos_emulator, "GetPhone", {"e164s": [PHONE_1001]})["infoPhones"] == []
    assert call(vos_emulator, "DeletePhone", {"e164": PHONE_1001})["retCode"] == NOT_FOUND
    assert call(vos_emulator, "DeletePhone", {})["retCode"] == MISSING
    assert call(vos_emulator, "GetCustomer", {"accounts": ["1001"]})["retCode"] == 0


# --- faults and persistence ---------------------------------------------------------------

NEW_INTERFACES = {
    "GetFeeRateGroup": {},
    "GetFeeRate": {"feeRateGroup": "retail-std"},
    "GetAvailableTime": {"billingName": PHONE_1001, "billingMode": 0, "calleeE164": "44"},
    "PayByPhoneCard": {"ownerName": "1002", "ownerType": 2, "pin": "9000000001"},
    "GetPhoneCard": {"pin": ["9000000001"]},
    "GetPhoneOnline": {"e164s": [PHONE_1001]},
    "GetCurrentCall": {},
    "ModifyPhone": {"e164": PHONE_1001},
    "DeletePhone": {"e164": "8613900001001"},
}


@pytest.mark.parametrize("name", sorted(NEW_INTERFACES))
def test_new_interfaces_meet_the_usual_faults(vos_emulator, name):
    body = NEW_INTERFACES[name]
    assert call(vos_emulator, name, body)["retCode"] == 0
    vos_emulator.faults.update({"error_rate": 1.0})
    assert post(vos_emulator, name, body).status_code == 500
    vos_emulator.faults.update({"error_rate": 0.0, "garbage_rate": 1.0})
    with pytest.raises(ValueError):
        post(vos_emulator, name, body).json()
    vos_emulator.faults.update({"garbage_rate": 0.0, "drop_rate": 1.0})
    with pytest.raises(requests.ConnectionError):
        post(vos_emulator, name, body)


def test_rates_cards_and_registrations_survive_save_and_load(tmp_path):
    state = EmulatorState.demo()
    path = tmp_path / "vos.json"
    state.save(path)
    loaded = EmulatorState.load(path)
    assert loaded.fee_rates == state.fee_rates
    assert loaded.phone_cards == state.phone_cards
    assert loaded.registrations == state.registrations
    assert loaded.dumps() == state.dumps()
    old = json.loads(state.dumps())
    old["version"] = 1
    for name in ("fee_rate_groups", "fee_rates", "phone_cards", "registrations", "current_calls"):
        del old[name]
    assert EmulatorState.loads(json.dumps(old)).phone_cards == {}
