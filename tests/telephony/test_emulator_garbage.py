"""The emulator as a misbehaving switch: every garbage mode answers what docs/EMULATOR.md says."""

from __future__ import annotations

import json
import math
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from telephony.emulator import EmulatorServer, EmulatorState, Faults
from telephony.emulator.faults import GARBAGE_MODES
from tests import emulator_fixtures

vos_emulator = emulator_fixtures.vos_emulator

QUERY = {"accounts": ["1001", "1005"]}
FAR_FUTURE = 253_402_300_800_000


def post(server: EmulatorServer, name: str, body: Any, timeout: float = 10) -> requests.Response:
    headers = {"Content-Type": "text/html;charset=UTF-8"}
    data = json.dumps(body).encode()
    return requests.post(f"{server.url}/{name}", data=data, headers=headers, timeout=timeout)


def garbled(server: EmulatorServer, mode: str, name: str = "GetCustomer", body: Any = None):
    server.faults.update({"garbage_mode": mode})
    return post(server, name, QUERY if body is None else body)


def customers(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200
    return json.loads(response.content, parse_float=Decimal)["infoCustomers"]


def test_every_mode_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "EMULATOR.md").read_text("utf-8")
    for mode in GARBAGE_MODES:
        assert f"`{mode}`" in doc


@pytest.mark.parametrize(
    ("mode", "status", "start"),
    [
        ("empty", 200, b""),
        ("html", 200, b"<!DOCTYPE html>"),
        ("http_500", 500, b"<html><head><title>Apache Tomcat"),
        ("http_503", 503, b"<html><body><h1>503"),
        ("nested", 200, b'{"retCode":0,"data":[[[['),
    ],
)
def test_fixed_bodies(vos_emulator, mode, status, start):
    response = garbled(vos_emulator, mode)
    assert response.status_code == status
    assert response.content.startswith(start)
    if mode == "empty":
        assert response.content == b""


def test_nested_is_100000_levels_deep(vos_emulator):
    body = garbled(vos_emulator, "nested").content
    assert body.count(b"[") == body.count(b"]") == 100_000
    with pytest.raises(RecursionError):
        json.loads(body)


def test_truncated_is_the_first_half_of_the_real_answer(vos_emulator):
    whole = post(vos_emulator, "GetCustomer", QUERY).content
    cut = garbled(vos_emulator, "truncated").content
    assert cut == whole[: len(whole) // 2]
    with pytest.raises(ValueError):
        json.loads(cut)


def test_unknown_retcode(vos_emulator):
    answer = garbled(vos_emulator, "unknown_retcode").json()
    assert answer == {"retCode": -19999, "exception": "F_ERROR_SYSTEM_BUSY"}


def test_numbers_as_strings_keep_retcode_a_number(vos_emulator):
    response = garbled(vos_emulator, "strings")
    assert response.json()["retCode"] == 0
    first = customers(response)[0]
    assert first["money"] == str(first["money"]) and "." in first["money"]
    assert first["type"] == "0" and first["startTime"].isdigit()
    assert first["infoCustomerAdditional"]["cardType"] == "0"


def test_lists_as_objects(vos_emulator):
    answer = garbled(vos_emulator, "list_as_object").json()
    assert answer == {"retCode": 0, "infoCustomers": {}}
    book = garbled(vos_emulator, "list_as_object", "GetCustomerPhoneBook", {"account": "1001"})
    assert book.json()["infoCustomerPhoneBooks"] == {}


def test_huge_numbers(vos_emulator):
    response = garbled(vos_emulator, "huge")
    assert b'"money":1.0E30' in response.content
    first = customers(response)[0]
    assert first["money"] == Decimal("1E30")
    assert first["startTime"] == 9_999_999_999_999_999_999 and first["type"] > 2**63


def test_nan_and_infinity_literals(vos_emulator):
    response = garbled(vos_emulator, "nan")
    assert b'"money":NaN' in response.content and b"Infinity" in response.content
    first = json.loads(response.content)["infoCustomers"][0]  # Python's json takes them
    assert math.isnan(first["money"]) and math.isinf(first["limitMoney"])


def test_negative_numbers_and_times(vos_emulator):
    for record in customers(garbled(vos_emulator, "negative")):
        assert record["money"] < 0 and record["limitMoney"] < 0
        assert record["startTime"] < 0 and record["validTime"] < 0
        assert record["type"] == -1


def test_far_future_times(vos_emulator):
    for record in customers(garbled(vos_emulator, "far_future")):
        assert record["startTime"] == record["validTime"] == FAR_FUTURE
    history = {"account": "1001", "beginTime": "20000101000000", "endTime": "20991231235959"}
    pays = garbled(vos_emulator, "far_future", "GetPayHistory", history).json()
    assert {r["payTime"] for r in pays["infoPayHistorys"]} == {FAR_FUTURE}


def test_null_fields(vos_emulator):
    response = garbled(vos_emulator, "nulls")
    assert response.json()["retCode"] == 0
    first = customers(response)[0]
    assert first["account"] is None and first["money"] is None
    assert first["infoCustomerAdditional"]["cardType"] is None


def test_no_list_answers_retcode_only(vos_emulator):
    assert garbled(vos_emulator, "no_list", "GetAllCustomers", {}).json() == {"retCode": 0}
    assert garbled(vos_emulator, "no_list", "GetAllCustomers", {"type": 1}).json() == {"retCode": 0}
    assert garbled(vos_emulator, "no_list").json() == {"retCode": 0}


def test_array_no_retcode_and_duplicates(vos_emulator):
    whole = customers(post(vos_emulator, "GetCustomer", QUERY))
    array = garbled(vos_emulator, "array").json()
    assert isinstance(array, list) and array[0]["retCode"] == 0
    assert "retCode" not in garbled(vos_emulator, "no_retcode").json()
    doubled = customers(garbled(vos_emulator, "duplicates"))
    assert [c["account"] for c in doubled] == [c["account"] for c in whole for _ in (0, 1)]


def test_gbk_body_is_not_utf8(vos_emulator):
    content = garbled(vos_emulator, "gbk").content
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    assert "张伟" in content.decode("gb18030")


def test_absurd_account_has_a_19_digit_balance_alone(vos_emulator):
    vos_emulator.faults.update({"absurd_account": "1005"})
    by_account = {c["account"]: c for c in customers(post(vos_emulator, "GetCustomer", QUERY))}
    assert by_account["1005"]["money"] == 1_234_567_890_123_456_789
    assert b'"money":1234567890123456789,' in post(vos_emulator, "GetCustomer", QUERY).content
    assert by_account["1001"]["money"] == vos_emulator.state.balance("1001")
    briefs = post(vos_emulator, "GetAllCustomers", {"type": 1}).json()["infoCustomerBriefs"]
    assert {b["account"] for b in briefs if b["money"] > 10**18} == {"1005"}
    assert vos_emulator.state.balance("1005") < 10**6  # the answer lies, the state does not


def test_garbage_interfaces_limit_the_mode(vos_emulator):
    vos_emulator.faults.update({"garbage_mode": "empty", "garbage_interfaces": "GetPhone, Pay"})
    assert customers(post(vos_emulator, "GetCustomer", QUERY))
    assert post(vos_emulator, "GetPhone", {"accounts": ["1001"]}).content == b""


def test_a_write_is_applied_before_its_answer_is_garbled(vos_emulator):
    before = vos_emulator.state.balance("3001")
    response = garbled(
        vos_emulator, "html", "Pay", {"ownerName": "3001", "ownerType": 2, "money": 5}
    )
    assert response.content.startswith(b"<!DOCTYPE html>")
    assert vos_emulator.state.balance("3001") == before + 5


def test_modes_switch_on_over_the_control_endpoint(vos_emulator):
    url = f"{vos_emulator.base_url}/_emulator/faults"
    changes = {"garbage_mode": "nulls", "garbage_interfaces": "GetCustomer"}
    assert requests.post(url, json=changes, timeout=5).json()["garbage_mode"] == "nulls"
    assert customers(post(vos_emulator, "GetCustomer", QUERY))[0]["money"] is None
    bad = requests.post(url, json={"garbage_mode": "chaos"}, timeout=5)
    assert bad.status_code == 400 and "unknown garbage_mode" in bad.json()["error"]
    assert requests.post(url, json={"garbage_mode": ""}, timeout=5).status_code == 200
    assert customers(post(vos_emulator, "GetCustomer", QUERY))[0]["money"] is not None


def test_modes_switch_on_at_start():
    with pytest.raises(ValueError):
        Faults(garbage_mode="chaos")
    faults = Faults(garbage_mode="huge", garbage_interfaces="GetCustomer")
    with EmulatorServer(state=EmulatorState.demo(), faults=faults) as server:
        assert customers(post(server, "GetCustomer", QUERY))[0]["money"] == Decimal("1E30")


def test_hang_answers_late_without_holding_up_other_requests(vos_emulator):
    vos_emulator.faults.update(
        {"garbage_mode": "hang", "garbage_interfaces": "GetCustomer", "hang_seconds": 1.0}
    )
    result: dict[str, Any] = {}

    def slow() -> None:
        started = time.monotonic()
        result["answer"] = post(vos_emulator, "GetCustomer", QUERY).json()
        result["took"] = time.monotonic() - started

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert post(vos_emulator, "GetPhone", {"accounts": ["1001"]}).json()["retCode"] == 0
    assert time.monotonic() - started < 0.5
    thread.join(5)
    assert result["took"] >= 1.0 and result["answer"]["retCode"] == 0


def test_hang_for_ever_times_the_client_out_and_ends_with_the_emulator():
    server = EmulatorServer(state=EmulatorState.demo(), faults=Faults(garbage_mode="hang"))
    server.start()
    errors: list[Exception] = []

    def waiting() -> None:
        try:
            post(server, "GetCustomer", QUERY, timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    try:
        with pytest.raises(requests.Timeout):
            post(server, "GetCustomer", QUERY, timeout=0.3)
        thread = threading.Thread(target=waiting)
        thread.start()
        time.sleep(0.2)
    finally:
        started = time.monotonic()
        server.stop()
    thread.join(5)
    assert time.monotonic() - started < 3
    assert not thread.is_alive() and errors  # closed unanswered when the emulator stopped
