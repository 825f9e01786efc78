"""The VOS3000 emulator, over real HTTP on loopback, as the portal's client will meet it."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from telephony.emulator import EmulatorServer, EmulatorState, Faults
from telephony.emulator.calls import simulate_call
from telephony.emulator.wire import java_double
from tests import emulator_fixtures

# Bound here rather than imported by name: test arguments would "redefine" an import (F811).
vos_emulator = emulator_fixtures.vos_emulator
vos_emulator_empty = emulator_fixtures.vos_emulator_empty

NOT_FOUND, INTERVAL, INPUT_ERROR, MISSING = -10007, -10033, -10124, -12103
ALL_TIME = {"beginTime": "20000101000000", "endTime": "20991231235959"}


def post(server: EmulatorServer, name: str, body: Any, **kwargs: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = kwargs.pop("headers", {"Content-Type": "text/html;charset=UTF-8"})
    return requests.post(f"{server.url}/{name}", data=data, headers=headers, timeout=10, **kwargs)


def call(server: EmulatorServer, name: str, body: Any) -> dict[str, Any]:
    response = post(server, name, body)
    assert response.status_code == 200
    return response.json(parse_float=Decimal)


def today(server: EmulatorServer) -> str:
    return server.state.today().strftime("%Y%m%d")


def days_ago(server: EmulatorServer, days: int) -> str:
    return (server.state.today() - timedelta(days=days)).strftime("%Y%m%d")


# --- wire format --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("10"), "10.0"),
        (Decimal("-3.5"), "-3.5"),
        (Decimal("12.3456"), "12.3456"),
        (Decimal("0"), "0.0"),
        (Decimal("9999999.99"), "9999999.99"),
        (Decimal("10000000"), "1.0E7"),
        (Decimal("12345600"), "1.23456E7"),
        (Decimal("-25000000.5"), "-2.50000005E7"),
        (Decimal("0.001"), "0.001"),
        (Decimal("0.0001"), "1.0E-4"),
    ],
)
def test_money_is_printed_like_java_double_to_string(value, text):
    assert java_double(value) == text


def test_answers_are_text_html_utf8(vos_emulator):
    response = post(vos_emulator, "GetCustomer", {"accounts": ["1001"]})
    assert response.headers["Content-Type"] == "text/html;charset=utf-8"
    assert "张伟" in response.content.decode("utf-8")  # raw UTF-8, not \\u escapes


@pytest.mark.parametrize("body", [b"", b"   ", b"not json", b"[1, 2]", b'"x"', b"\xff\xfe{}"])
def test_an_empty_or_unreadable_body_gets_an_empty_200(vos_emulator, body):
    response = post(vos_emulator, "GetCustomer", body)
    assert response.status_code == 200
    assert response.content == b""


def test_a_form_encoded_request_with_a_json_body_is_read(vos_emulator):
    headers = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
    response = post(vos_emulator, "GetCustomer", {"accounts": ["1002"]}, headers=headers)
    assert response.json()["infoCustomers"][0]["name"] == "Café Müller"


def test_an_unknown_interface_is_404_with_an_empty_body(vos_emulator):
    response = post(vos_emulator, "GetEverything", {})
    assert response.status_code == 404
    assert response.content == b""


def test_the_test_directory_serves_the_same_interfaces(vos_emulator):
    response = requests.post(
        f"{vos_emulator.base_url}/external/test/server/GetAllCustomers", data=b"{}", timeout=5
    )
    assert response.json()["retCode"] == 0


def test_success_has_no_exception_key_and_errors_have_one(vos_emulator):
    assert "exception" not in call(vos_emulator, "GetAllCustomers", {})
    assert call(vos_emulator, "GetCustomer", {}) == {
        "retCode": MISSING,
        "exception": "Miss parameters",
    }


# --- customers ----------------------------------------------------------------------------

INFO_CUSTOMER_FIELDS = [
    "account",
    "name",
    "money",
    "limitMoney",
    "feeRateGroup",
    "type",
    "lockType",
    "agentAccount",
    "phoneBookLimit",
    "startTime",
    "validTime",
    "todayConsumption",
    "memo",
    "infoCustomerAdditional",
]


def test_get_customer_returns_every_info_customer_field(vos_emulator):
    answer = call(vos_emulator, "GetCustomer", {"accounts": ["1001"]})
    assert answer["retCode"] == 0
    (customer,) = answer["infoCustomers"]
    assert list(customer) == INFO_CUSTOMER_FIELDS
    assert customer["name"] == "张伟"
    assert customer["agentAccount"] == "agent01"
    assert customer["phoneBookLimit"] == 20
    assert customer["money"] == vos_emulator.state.balance("1001")
    assert customer["infoCustomerAdditional"]["cardType"] == 0
    assert customer["startTime"] > 1_000_000_000_000  # epoch milliseconds


def test_get_customer_by_phone_number_finds_the_phones_account(vos_emulator):
    answer = call(vos_emulator, "GetCustomer", {"e164s": ["8613800002001"]})
    assert [c["account"] for c in answer["infoCustomers"]] == ["2001"]


def test_get_customer_answers_only_the_known_accounts_in_its_own_order(vos_emulator):
    answer = call(vos_emulator, "GetCustomer", {"accounts": ["3001", "nobody", "1002"]})
    assert answer["retCode"] == 0
    assert sorted(c["account"] for c in answer["infoCustomers"]) == ["1002", "3001"]


def test_get_customer_with_only_unknown_accounts_is_not_found(vos_emulator):
    answer = call(vos_emulator, "GetCustomer", {"accounts": ["nobody"]})
    assert answer == {"retCode": NOT_FOUND, "exception": "Not found, operation failed."}


def test_strict_unknown_refuses_the_whole_batch(vos_emulator):
    vos_emulator.faults.strict_unknown = True
    answer = call(vos_emulator, "GetCustomer", {"accounts": ["1001", "nobody"]})
    assert answer["retCode"] == NOT_FOUND
    assert "infoCustomers" not in answer


@pytest.mark.parametrize("accounts", ["1001", [1001], [None], {"a": "1001"}, ["x" * 65]])
def test_get_customer_with_accounts_not_a_list_of_strings_is_an_input_error(vos_emulator, accounts):
    answer = call(vos_emulator, "GetCustomer", {"accounts": accounts})
    assert answer == {"retCode": INPUT_ERROR, "exception": "Input parameter error"}


def test_get_all_customers_lists_accounts_and_newer_builds_give_briefs(vos_emulator):
    accounts = call(vos_emulator, "GetAllCustomers", {})["accounts"]
    assert {"agent01", "agent02", "1001", "1006", "2004", "3001"} <= set(accounts)
    assert len(accounts) == 13
    briefs = call(vos_emulator, "GetAllCustomers", {"type": 1})["infoCustomerBriefs"]
    assert {b["account"]: b["money"] for b in briefs}["2003"] == vos_emulator.state.balance("2003")
    assert set(briefs[0]) == {"account", "money", "limitMoney", "agentAccount"}


def test_demo_has_negative_balances_within_their_overdraft_and_a_locked_customer(vos_emulator):
    customers = {
        c["account"]: c
        for c in call(vos_emulator, "GetAllCustomers", {"type": 1})["infoCustomerBriefs"]
    }
    negative = sorted(a for a, c in customers.items() if c["money"] < 0)
    assert negative == ["1003", "2003"]
    assert all(customers[a]["money"] >= -customers[a]["limitMoney"] for a in negative)
    assert abs(customers["agent01"]["money"] - 1500) < 1
    assert abs(customers["agent02"]["money"] - 800) < 1
    locked = call(vos_emulator, "GetCustomer", {"accounts": ["1006"]})["infoCustomers"][0]
    assert locked["lockType"] == 1


def test_create_customer_applies_defaults_and_records_the_opening_money(vos_emulator_empty):
    server = vos_emulator_empty
    assert call(server, "CreateCustomer", {"account": "c1", "money": 10})["retCode"] == 0
    raw = post(server, "GetCustomer", {"accounts": ["c1"]}).text
    assert '"money":10.0,' in raw
    assert '"limitMoney":0.0,' in raw
    customer = json.loads(raw)["infoCustomers"][0]
    assert customer["name"] == "c1"
    assert (customer["type"], customer["lockType"], customer["phoneBookLimit"]) == (0, 0, 0)
    assert customer["validTime"] - customer["startTime"] == 30 * 86_400_000
    history = call(server, "GetPayHistory", {"account": "c1", **ALL_TIME})["infoPayHistorys"]
    assert [(h["type"], h["fee"], h["customerMoney"]) for h in history] == [(2, 10, 10)]


def test_a_ten_million_balance_prints_in_scientific_notation(vos_emulator_empty):
    call(vos_emulator_empty, "CreateCustomer", {"account": "big", "money": 10_000_000})
    raw = post(vos_emulator_empty, "GetCustomer", {"accounts": ["big"]}).text
    assert re.search(r'"money":1\.0E7,', raw)


def test_create_customer_refuses_a_duplicate_and_an_unknown_agent(vos_emulator):
    assert call(vos_emulator, "CreateCustomer", {"account": "1001"})["retCode"] == -10002
    answer = call(vos_emulator, "CreateCustomer", {"account": "9", "agentAccount": "ghost"})
    assert answer["retCode"] == NOT_FOUND
    assert call(vos_emulator, "CreateCustomer", {"name": "no account"})["retCode"] == MISSING
    assert call(vos_emulator, "CreateCustomer", {"account": "x" * 65})["retCode"] == INPUT_ERROR
    assert call(vos_emulator, "CreateCustomer", {"account": "9", "type": 7})["retCode"] == (
        INPUT_ERROR
    )


def test_modify_customer_changes_only_the_given_fields_and_never_the_money(vos_emulator):
    before = vos_emulator.state.customers["1002"].copy()
    answer = call(
        vos_emulator,
        "ModifyCustomer",
        {"account": "1002", "lockType": 1, "memo": "paused", "money": 999999},
    )
    assert answer["retCode"] == 0
    after = vos_emulator.state.customers["1002"]
    assert (after["lockType"], after["memo"]) == (1, "paused")
    assert after["money"] == before["money"]
    assert after["name"] == before["name"] == "Café Müller"
    assert call(vos_emulator, "ModifyCustomer", {"account": "ghost"})["retCode"] == NOT_FOUND


def test_delete_customer_removes_it_and_its_phones_but_not_an_agent_in_use(vos_emulator):
    assert call(vos_emulator, "DeleteCustomer", {"account": "agent01"})["retCode"] == -10005
    assert call(vos_emulator, "DeleteCustomer", {"account": "3001"})["retCode"] == 0
    assert call(vos_emulator, "GetCustomer", {"accounts": ["3001"]})["retCode"] == NOT_FOUND
    assert call(vos_emulator, "GetPhone", {"accounts": ["3001"]})["infoPhones"] == []


# --- Pay and history ----------------------------------------------------------------------


def test_pay_adds_to_the_balance_and_writes_pay_history_with_memo(vos_emulator):
    before = vos_emulator.state.balance("1001")
    answer = call(
        vos_emulator,
        "Pay",
        {"ownerName": "1001", "ownerType": 2, "money": 25.5, "memo": "portal top-up #7 充值"},
    )
    assert answer["retCode"] == 0
    assert answer["infoPay"]["account"] == "1001"
    assert answer["infoPay"]["money"] == before + Decimal("25.5")
    assert answer["infoPay"]["payMoney"] == Decimal("25.5")
    assert vos_emulator.state.balance("1001") == before + Decimal("25.5")
    history = call(vos_emulator, "GetPayHistory", {"account": "1001", **ALL_TIME})
    last = history["infoPayHistorys"][-1]
    assert last["fee"] == Decimal("25.5")
    assert last["memo"] == "portal top-up #7 充值"
    assert (last["type"], last["payType"]) == (0, 0)
    assert last["customerMoney"] == before + Decimal("25.5")
    assert abs(last["payTime"] - time.time() * 1000) < 5000


def test_pay_history_has_no_memo_on_builds_without_it(vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    call(vos_emulator, "Pay", {"ownerName": "1001", "ownerType": 2, "money": 1, "memo": "m"})
    history = call(vos_emulator, "GetPayHistory", {"account": "1001", **ALL_TIME})
    assert history["infoPayHistorys"]
    assert all("memo" not in h for h in history["infoPayHistorys"])


def test_pay_by_phone_number_credits_the_phones_account(vos_emulator):
    before = vos_emulator.state.balance("2001")
    answer = call(vos_emulator, "Pay", {"ownerName": "8613900002001", "ownerType": 6, "money": 5})
    assert answer["infoPay"]["account"] == "2001"
    assert vos_emulator.state.balance("2001") == before + 5


def test_negative_pay_deducts_and_a_repeated_pay_pays_twice(vos_emulator):
    before = vos_emulator.state.balance("1004")
    body = {"ownerName": "1004", "ownerType": 2, "money": -3.5}
    call(vos_emulator, "Pay", body)
    call(vos_emulator, "Pay", body)
    assert vos_emulator.state.balance("1004") == before - 7


@pytest.mark.parametrize(
    ("body", "ret_code"),
    [
        ({"ownerName": "ghost", "ownerType": 2, "money": 1}, NOT_FOUND),
        ({"ownerName": "999", "ownerType": 6, "money": 1}, NOT_FOUND),
        ({"ownerName": "1001", "ownerType": 11, "money": 1}, INPUT_ERROR),
        ({"ownerName": "1001", "ownerType": 2, "money": "10"}, INPUT_ERROR),
        ({"ownerName": "1001", "ownerType": 2, "money": True}, INPUT_ERROR),
        ({"ownerName": "1001", "ownerType": "2", "money": 1}, INPUT_ERROR),
        ({"ownerName": "1001", "ownerType": 2}, MISSING),
        ({"ownerType": 2, "money": 1}, MISSING),
    ],
)
def test_pay_refuses_bad_requests_without_touching_the_balance(vos_emulator, body, ret_code):
    before = vos_emulator.state.balance("1001")
    answer = call(vos_emulator, "Pay", body)
    assert answer["retCode"] == ret_code
    assert "infoPay" not in answer
    assert vos_emulator.state.balance("1001") == before


def test_pay_history_by_agent_lists_its_customers_within_the_window(vos_emulator):
    history = call(vos_emulator, "GetPayHistory", {"agentAccount": "agent02", **ALL_TIME})
    accounts = {h["account"] for h in history["infoPayHistorys"]}
    assert accounts == {"2001", "2002", "2003", "2004"}
    empty = call(
        vos_emulator,
        "GetPayHistory",
        {"account": "1001", "beginTime": "20000101000000", "endTime": "20000102000000"},
    )
    assert empty == {"retCode": 0, "infoPayHistorys": []}


@pytest.mark.parametrize(
    ("body", "ret_code"),
    [
        ({"account": "1001", "beginTime": "20240101000000"}, MISSING),
        ({"beginTime": "20240101000000", "endTime": "20240102000000"}, MISSING),
        ({"account": "1001", "beginTime": "20240101", "endTime": "20240102000000"}, INPUT_ERROR),
        ({"account": "1001", "beginTime": "20241301000000", "endTime": "20241302000000"}, -10124),
        ({"account": "ghost", **ALL_TIME}, NOT_FOUND),
    ],
)
def test_pay_history_errors_drop_the_list(vos_emulator, body, ret_code):
    answer = call(vos_emulator, "GetPayHistory", body)
    assert answer["retCode"] == ret_code
    assert "infoPayHistorys" not in answer


def test_pay_history_window_is_read_in_the_servers_time_zone(vos_emulator_empty):
    server = vos_emulator_empty
    server.state.time_zone = "Asia/Shanghai"
    call(server, "CreateCustomer", {"account": "tz"})
    server.state.clock = lambda: datetime(2024, 3, 10, 17, 0, tzinfo=UTC).timestamp()
    call(server, "Pay", {"ownerName": "tz", "ownerType": 2, "money": 1})  # 01:00 on 11 Mar, CST
    window = {"account": "tz", "beginTime": "20240311000000", "endTime": "20240311005959"}
    assert call(server, "GetPayHistory", window)["infoPayHistorys"] == []
    window["endTime"] = "20240311010000"
    assert len(call(server, "GetPayHistory", window)["infoPayHistorys"]) == 1


def test_consumption_lists_the_monthly_phone_rent(vos_emulator):
    answer = call(vos_emulator, "GetConsumption", {"account": "2001", **ALL_TIME})
    (rent, *_) = answer["infoConsumptions"]
    assert rent["type"] == 1
    assert rent["money"] == 15
    assert rent["consumptionName"] == "8613800002001"
    assert set(rent) == {"account", "money", "customerMoney", "type", "consumptionName", "time"}
    assert call(vos_emulator, "GetConsumption", {"account": "2001"}) == {
        "retCode": MISSING,
        "exception": "Miss parameters",
    }


# --- faults -------------------------------------------------------------------------------


def test_pay_is_applied_even_when_the_answer_is_dropped(vos_emulator):
    vos_emulator.faults.drop_after_pay_rate = 1.0
    before = vos_emulator.state.balance("1001")
    with pytest.raises(requests.ConnectionError):
        post(vos_emulator, "Pay", {"ownerName": "1001", "ownerType": 2, "money": 10})
    assert vos_emulator.state.balance("1001") == before + 10
    assert call(vos_emulator, "GetAllCustomers", {})["retCode"] == 0  # only Pay is dropped


def test_a_dropped_request_does_nothing(vos_emulator):
    vos_emulator.faults.drop_rate = 1.0
    before = vos_emulator.state.balance("1001")
    with pytest.raises(requests.ConnectionError):
        post(vos_emulator, "Pay", {"ownerName": "1001", "ownerType": 2, "money": 10})
    assert vos_emulator.state.balance("1001") == before


def test_error_rate_answers_http_500_with_an_html_page(vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    response = post(vos_emulator, "GetCustomer", {"accounts": ["1001"]})
    assert response.status_code == 500
    assert response.text.startswith("<html>")


def test_garbage_rate_answers_200_with_a_body_that_is_not_json(vos_emulator):
    vos_emulator.faults.garbage_rate = 1.0
    response = post(vos_emulator, "GetCustomer", {"accounts": ["1001"]})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_latency_delays_every_answer(vos_emulator):
    vos_emulator.faults.latency_ms = 200
    started = time.monotonic()
    post(vos_emulator, "GetAllCustomers", {})
    assert time.monotonic() - started >= 0.2


def test_fault_dice_are_reproducible_from_the_seed():
    def outcomes() -> list[bool]:
        server = EmulatorServer(state=EmulatorState.empty(), faults=Faults(seed=42))
        try:
            return [server.roll(0.5) for _ in range(20)]
        finally:
            server.stop()

    assert outcomes() == outcomes()


def test_faults_change_at_run_time_over_http(vos_emulator):
    faults_url = f"{vos_emulator.base_url}/_emulator/faults"
    response = requests.post(faults_url, json={"error_rate": 1.0, "cdr_max_days": 7}, timeout=5)
    assert response.status_code == 200
    assert response.json()["error_rate"] == 1.0
    assert requests.get(faults_url, timeout=5).json()["cdr_max_days"] == 7
    assert post(vos_emulator, "GetAllCustomers", {}).status_code == 500
    bad = requests.post(faults_url, json={"error_rate": 2, "nonsense": 1}, timeout=5)
    assert bad.status_code == 400
    assert vos_emulator.faults.error_rate == 1.0  # a bad update changes nothing
    requests.post(faults_url, json={"error_rate": 0}, timeout=5)
    assert post(vos_emulator, "GetAllCustomers", {}).status_code == 200


def test_health_calls_and_reset_control_endpoints(vos_emulator):
    base = f"{vos_emulator.base_url}/_emulator"
    assert requests.get(f"{base}/health", timeout=5).json() == {"ok": True}
    call(vos_emulator, "Pay", {"ownerName": "1001", "ownerType": 2, "money": 100})
    call(vos_emulator, "GetCustomer", {"accounts": ["1001"]})
    assert vos_emulator.calls["Pay"] == 1
    assert requests.get(f"{base}/calls", timeout=5).json()["GetCustomer"] == 1
    before = EmulatorState.demo().balance("1001")
    assert requests.post(f"{base}/reset", json={}, timeout=5).json()["ok"] is True
    assert vos_emulator.state.balance("1001") == before
    requests.post(f"{base}/reset", json={"seed": "empty"}, timeout=5)
    assert call(vos_emulator, "GetAllCustomers", {})["accounts"] == []


def test_stop_is_prompt_and_ends_kept_alive_connections():
    server = EmulatorServer(state=EmulatorState.empty()).start()
    session = requests.Session()
    assert session.post(f"{server.url}/GetAllCustomers", data=b"{}", timeout=5).ok
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1
    with pytest.raises(requests.ConnectionError):
        session.post(f"{server.url}/GetAllCustomers", data=b"{}", timeout=5)


# --- CDRs and reports ---------------------------------------------------------------------

INFO_CDR_FIELDS = {
    "callerE164",
    "callerAccessE164",
    "callerProductId",
    "callerToGatewayE164",
    "callerGateway",
    "callerip",
    "calleeE164",
    "calleeAccessE164",
    "calleeProductId",
    "calleeToGatewayE164",
    "calleeGateway",
    "calleeip",
    "start",
    "stop",
    "holdTime",
    "feeTime",
    "fee",
    "feePrefix",
    "suiteFee",
    "suiteFeeTime",
    "agentFee",
    "agentFeeTime",
    "agentFeePrefix",
    "agentSuiteFee",
    "agentSuiteFeeTime",
    "callLevel",
    "account",
    "accountName",
    "agentAccount",
    "agentName",
    "endDirection",
    "endReason",
    "calleeBilling",
    "billingMode",
    "flowNo",
}


def test_get_cdr_returns_complete_records_for_the_window(vos_emulator):
    body = {
        "accounts": ["1001"],
        "beginTime": days_ago(vos_emulator, 6),
        "endTime": today(vos_emulator),
    }
    cdrs = call(vos_emulator, "GetCdr", body)["infoCdrs"]
    assert len(cdrs) > 50
    assert all(set(c) == INFO_CDR_FIELDS for c in cdrs)
    assert {c["account"] for c in cdrs} == {"1001"}
    assert {c["callerE164"] for c in cdrs} <= {"8613800001001", "8613900001001"}
    unanswered = [c for c in cdrs if c["holdTime"] == 0]
    assert 0.15 < len(unanswered) / len(cdrs) < 0.55
    assert all(c["feeTime"] == 0 and c["fee"] == 0 for c in unanswered)
    for cdr in cdrs:
        increment = 6 if cdr["callLevel"] == 5 else 60
        assert cdr["feeTime"] % increment == 0
        assert cdr["feeTime"] >= cdr["holdTime"]
        assert cdr["stop"] >= cdr["start"] + cdr["holdTime"] * 1000
    assert len({c["flowNo"] for c in cdrs}) == len(cdrs)


@pytest.mark.parametrize("hour", [0, 2, 12])
def test_the_demo_has_calls_made_today_that_have_ended(vos_emulator, hour):
    now = datetime.now(UTC).replace(hour=hour, minute=30, second=0, microsecond=0)
    vos_emulator.state.replace_with(EmulatorState.demo(now))
    day = now.strftime("%Y%m%d")
    body = {"accounts": ["1001", "1004", "2001"], "beginTime": day, "endTime": day}
    cdrs = call(vos_emulator, "GetCdr", body)["infoCdrs"]
    assert cdrs
    assert all(c["stop"] <= now.timestamp() * 1000 for c in cdrs)


def test_get_cdr_window_longer_than_the_limit_is_refused_but_keeps_the_list(vos_emulator):
    body = {
        "accounts": ["1001"],
        "beginTime": days_ago(vos_emulator, 31),
        "endTime": today(vos_emulator),
    }
    answer = call(vos_emulator, "GetCdr", body)
    assert answer == {
        "retCode": INTERVAL,
        "exception": "Over the limitation of inquiry interval, please contact system administrator",
        "infoCdrs": [],
    }
    body["beginTime"] = days_ago(vos_emulator, 30)  # 31 days, both ends included
    assert call(vos_emulator, "GetCdr", body)["retCode"] == 0
    vos_emulator.faults.cdr_max_days = 1
    assert call(vos_emulator, "GetCdr", body)["retCode"] == INTERVAL


@pytest.mark.parametrize(
    "body",
    [
        {"accounts": "1001", "beginTime": "20240101", "endTime": "20240102"},
        {"accounts": ["1001"], "beginTime": "2024-01-01", "endTime": "20240102"},
        {"accounts": ["1001"], "beginTime": "20240132", "endTime": "20240202"},
        {"accounts": ["1001"], "beginTime": 20240101, "endTime": "20240102"},
    ],
)
def test_get_cdr_with_bad_types_or_dates_is_an_input_error(vos_emulator, body):
    assert call(vos_emulator, "GetCdr", body) == {
        "retCode": INPUT_ERROR,
        "exception": "Input parameter error",
        "infoCdrs": [],
    }


def test_get_cdr_without_accounts_misses_parameters(vos_emulator):
    answer = call(vos_emulator, "GetCdr", {"beginTime": "20240101", "endTime": "20240101"})
    assert answer["retCode"] == MISSING


def test_get_cdr_for_an_unknown_account_is_an_empty_list(vos_emulator):
    body = {"accounts": ["ghost"], "beginTime": today(vos_emulator), "endTime": today(vos_emulator)}
    assert call(vos_emulator, "GetCdr", body) == {"retCode": 0, "infoCdrs": []}


def test_get_cdr_filters_by_caller_and_can_omit_flow_no(vos_emulator):
    body = {
        "accounts": ["1001"],
        "beginTime": days_ago(vos_emulator, 6),
        "endTime": today(vos_emulator),
        "callerE164": "8613900001001",
    }
    vos_emulator.faults.cdr_flow_no = False
    cdrs = call(vos_emulator, "GetCdr", body)["infoCdrs"]
    assert cdrs
    assert {c["callerE164"] for c in cdrs} == {"8613900001001"}
    assert all("flowNo" not in c for c in cdrs)


def _cdr_at(state: EmulatorState, account: str, start: datetime) -> None:
    start_ms = int(start.timestamp() * 1000)
    fields = dict.fromkeys(INFO_CDR_FIELDS, "")
    fields.update(account=account, agentAccount="", start=start_ms, stop=start_ms + 60_000)
    fields.update(fee=Decimal("0.05"), agentFee=Decimal(0), callLevel=4, feeTime=60, holdTime=55)
    fields.update(suiteFee=Decimal(0), suiteFeeTime=0, accountName=account, flowNo=0)
    state.add_cdr(fields, charge=True)


def test_cdr_days_are_the_servers_local_days(vos_emulator_empty):
    server = vos_emulator_empty
    server.state.time_zone = "Asia/Shanghai"
    call(server, "CreateCustomer", {"account": "tz"})
    _cdr_at(server.state, "tz", datetime(2024, 3, 10, 20, 0, tzinfo=UTC))  # 04:00 on 11 Mar CST
    on = {"accounts": ["tz"], "beginTime": "20240311", "endTime": "20240311"}
    before = {"accounts": ["tz"], "beginTime": "20240310", "endTime": "20240310"}
    assert len(call(server, "GetCdr", on)["infoCdrs"]) == 1
    assert call(server, "GetCdr", before)["infoCdrs"] == []
    assert server.state.balance("tz") == Decimal("-0.05")


# Noon of a fixed day: the demo seed's calls of "today" begin ten minutes after its midnight,
# so a report ending today has a row for it whatever the clock says.
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo_at_noon():
    state = EmulatorState.demo(NOON)
    state.clock = NOON.timestamp
    yield from emulator_fixtures._serve(state)


def test_customer_fee_report_adds_up_the_cdrs(demo_at_noon):
    begin, end = days_ago(demo_at_noon, 9), today(demo_at_noon)
    cdrs = call(demo_at_noon, "GetCdr", {"accounts": ["1004"], "beginTime": begin, "endTime": end})
    body = {"accounts": ["1004"], "period": 1, "beginTime": begin, "endTime": end}
    rows = call(demo_at_noon, "GetReportCustomerFee", body)["infoReportCustomerFees"]
    assert len(rows) == 10
    assert sum(r["cdrCount"] for r in rows) == len(cdrs["infoCdrs"])
    assert sum(r["totalFee"] for r in rows) == sum(c["fee"] for c in cdrs["infoCdrs"])
    for row in rows:
        assert row["endTime"] - row["beginTime"] == 86_400_000 - 1
        assert row["accountName"] == "Acme Logistics Ltd"
        parts = ("net", "local", "domestic", "international")
        assert sum(row[f"{p}Count"] for p in parts) == row["cdrCount"]
        assert sum(row[f"{p}Fee"] for p in parts) == row["totalFee"]
    body["period"] = -2
    monthly = call(demo_at_noon, "GetReportCustomerFee", body)["infoReportCustomerFees"]
    assert sum(r["totalFee"] for r in monthly) == sum(r["totalFee"] for r in rows)
    body["period"] = 0
    assert call(demo_at_noon, "GetReportCustomerFee", body)["retCode"] == INPUT_ERROR


# --- phones and phone book ----------------------------------------------------------------


def test_get_phone_by_account_and_number_shows_the_web_password(vos_emulator):
    phones = call(vos_emulator, "GetPhone", {"accounts": ["1001"]})["infoPhones"]
    assert {p["e164"] for p in phones} == {"8613800001001", "8613900001001"}
    assert {p["customerPassword"] for p in phones} == {"web1001"}
    by_number = call(vos_emulator, "GetPhone", {"e164s": ["8613800002003"]})["infoPhones"]
    assert by_number[0]["account"] == "2003"
    assert call(vos_emulator, "GetPhone", {"e164s": ["000"]}) == {"retCode": 0, "infoPhones": []}
    assert call(vos_emulator, "GetPhone", {}) == {
        "retCode": MISSING,
        "exception": "Miss parameters",
    }


def test_create_phone_can_create_its_account(vos_emulator_empty):
    server = vos_emulator_empty
    body = {"autoCreateAccount": True, "e164": "8613700000001", "customerPassword": "s3cret"}
    assert call(server, "CreatePhone", body)["retCode"] == 0
    assert call(server, "GetAllCustomers", {})["accounts"] == ["8613700000001"]
    phone = call(server, "GetPhone", {"e164s": ["8613700000001"]})["infoPhones"][0]
    assert (phone["account"], phone["customerPassword"]) == ("8613700000001", "s3cret")
    assert call(server, "CreatePhone", body)["retCode"] == -10003
    orphan = {"autoCreateAccount": False, "e164": "8613700000002", "account": "ghost"}
    assert call(server, "CreatePhone", orphan)["retCode"] == NOT_FOUND
    assert call(server, "CreatePhone", {"e164": "8613700000003"})["retCode"] == MISSING


def test_modify_phone_changes_the_given_fields(vos_emulator):
    body = {"e164": "8613800001005", "customerPassword": "new-pw", "lockType": 3}
    assert call(vos_emulator, "ModifyPhone", body)["retCode"] == 0
    phone = vos_emulator.state.phones["8613800001005"]
    assert (phone["customerPassword"], phone["lockType"], phone["account"]) == ("new-pw", 3, "1005")
    assert call(vos_emulator, "ModifyPhone", {"e164": "000"})["retCode"] == NOT_FOUND


def test_phone_book_of_1001_has_short_numbers_and_chinese_names(vos_emulator):
    book = call(vos_emulator, "GetCustomerPhoneBook", {"account": "1001"})
    entries = book["infoCustomerPhoneBooks"]
    assert {e["name"] for e in entries} >= {"Li Lei", "王小明"}
    assert any(e["shortE164s"] for e in entries)
    assert set(entries[0]) == {
        "e164",
        "shortE164s",
        "name",
        "department",
        "deviceType",
        "addressType",
        "type",
        "lastUpdateTime",
        "memo",
    }
    by_phone = call(vos_emulator, "GetCustomerPhoneBook", {"e164": "8613900001001"})
    assert by_phone == book


def test_phone_book_create_modify_delete_and_its_limit(vos_emulator):
    server = vos_emulator  # 2001 may keep 3 numbers
    for n in range(3):
        body = {"account": "2001", "e164": f"86755000000{n}", "name": f"n{n}"}
        assert call(server, "CreateCustomerPhoneBook", body)["retCode"] == 0
    full = {"account": "2001", "e164": "867550000009"}
    assert call(server, "CreateCustomerPhoneBook", full)["retCode"] == -10112
    again = {"account": "2001", "e164": "867550000000", "name": "again"}
    assert call(server, "CreateCustomerPhoneBook", again)["retCode"] == -10004
    again["overwrite"] = True
    assert call(server, "CreateCustomerPhoneBook", again)["retCode"] == 0
    rename = {"account": "2001", "e164": "867550000001", "newE164": "867550000007", "name": "r"}
    assert call(server, "ModifyCustomerPhoneBook", rename)["retCode"] == 0
    assert call(server, "ModifyCustomerPhoneBook", rename)["retCode"] == NOT_FOUND
    delete = {"account": "2001", "e164s": ["867550000002", "867550000099"]}
    assert call(server, "DeleteCustomerPhoneBook", delete)["retCode"] == 0
    book = call(server, "GetCustomerPhoneBook", {"account": "2001"})["infoCustomerPhoneBooks"]
    assert [(e["e164"], e["name"]) for e in book] == [
        ("867550000000", "again"),
        ("867550000007", "r"),
    ]
    assert call(server, "DeleteCustomerPhoneBook", {"account": "2001"})["retCode"] == MISSING


def test_phone_book_of_an_unknown_account_is_not_found(vos_emulator):
    answer = call(vos_emulator, "GetCustomerPhoneBook", {"account": "ghost"})
    assert answer == {"retCode": NOT_FOUND, "exception": "Not found, operation failed."}


# --- state, seeds, traffic ----------------------------------------------------------------


def test_state_survives_save_and_load(tmp_path):
    state = EmulatorState.demo()
    state.pay("1002", Decimal("0.1"), memo="Ünïcödé 充值")
    path = tmp_path / "vos.json"
    state.save(path)
    loaded = EmulatorState.load(path)
    assert loaded.balance("1002") == state.balance("1002")
    assert isinstance(loaded.balance("1002"), Decimal)
    assert loaded.pay_history[-1]["memo"] == "Ünïcödé 充值"
    assert loaded.cdrs == state.cdrs
    assert loaded.phone_books == state.phone_books
    assert loaded.dumps() == state.dumps()


def test_a_server_with_a_state_path_saves_every_write(tmp_path):
    path = tmp_path / "vos.json"
    server = EmulatorServer(state=EmulatorState.demo(), state_path=path).start()
    try:
        call(server, "Pay", {"ownerName": "3001", "ownerType": 2, "money": 12.34})
        expected = server.state.balance("3001")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if path.exists() and EmulatorState.load(path).balance("3001") == expected:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the Pay was not saved")
    finally:
        server.stop()
    assert EmulatorState.load(path).balance("3001") == expected


def test_the_demo_is_deterministic_for_a_given_now():
    now = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)
    first, second = EmulatorState.demo(now), EmulatorState.demo(now)
    assert first.dumps() == second.dumps()
    assert first is not second
    first.pay("1001", Decimal(1))
    assert first.balance("1001") != second.balance("1001")
    assert 3000 < len(first.cdrs) < 15000
    assert max(c["stop"] for c in first.cdrs) <= now.timestamp() * 1000


def test_a_scale_seed_with_10000_accounts_builds_quickly():
    started = time.monotonic()
    state = EmulatorState.scale(10_000)
    assert time.monotonic() - started < 2
    assert len(state.customers) == 10_000 + 50
    assert len(state.phones) == 10_000
    assert state.customers["c000051"]["agentAccount"] == "a0001"


def test_scale_cdrs_are_generated_the_same_on_every_call(vos_emulator_empty):
    now = datetime.now(UTC)
    vos_emulator_empty.state.replace_with(
        EmulatorState.scale(200, agents=5, now=now, cdrs_per_account_per_day=16)
    )
    begin = (now - timedelta(days=10)).strftime("%Y%m%d")
    end = (now - timedelta(days=1)).strftime("%Y%m%d")
    body = {"accounts": ["c000007", "c000150"], "beginTime": begin, "endTime": end}
    first = post(vos_emulator_empty, "GetCdr", body).text
    second = post(vos_emulator_empty, "GetCdr", body).text
    assert first == second
    cdrs = json.loads(first)["infoCdrs"]
    assert 100 < len(cdrs) < 500
    rebuilt = EmulatorState.scale(200, agents=5, now=now, cdrs_per_account_per_day=16)
    vos_emulator_empty.state.replace_with(rebuilt)
    assert post(vos_emulator_empty, "GetCdr", body).text == first


def test_traffic_charges_the_caller_and_skips_locked_customers():
    state = EmulatorState.demo()
    rng = random.Random(1)
    before = {a: c["money"] for a, c in state.customers.items()}
    calls = [simulate_call(state, rng) for _ in range(40)]
    assert all(c is not None for c in calls)
    assert "1006" not in {c["account"] for c in calls}
    for account in {c["account"] for c in calls}:
        spent = sum(c["fee"] for c in calls if c["account"] == account)
        assert state.balance(account) == before[account] - spent
    assert state.cdrs[-1] is calls[-1]
