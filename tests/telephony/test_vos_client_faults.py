"""The client against answers the emulator cannot give: shaped with `responses`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import responses

from telephony.vos import (
    PayOutcomeUnknown,
    VosClient,
    VosIntervalTooLong,
    VosMalformed,
    VosNotFound,
    VosRejected,
    VosUnavailable,
    encode_body,
    from_millis,
    to_money,
)

ROOT = "http://vos.test:8080/external/server"
AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def client():
    return VosClient(ROOT, name="t", read_retries=2, retry_backoff=0)


def answer(interface: str, body, status: int = 200, content_type: str = "text/html;charset=utf-8"):
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    responses.add(
        responses.POST, f"{ROOT}/{interface}", body=text, status=status, content_type=content_type
    )


@responses.activate
def test_request_is_utf8_json_with_the_manuals_content_type(client):
    answer("GetCustomer", {"retCode": 0, "infoCustomers": []})
    client.get_customers(["张伟"])
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "text/html;charset=UTF-8"
    assert json.loads(request.body.decode("utf-8")) == {"accounts": ["张伟"]}


def test_decimals_are_written_as_exact_digits():
    body = encode_body({"money": Decimal("0.1000"), "nested": [Decimal("-12345678.9")]})
    assert body == b'{"money":0.1000,"nested":[-12345678.9]}'


@pytest.mark.parametrize(
    "raw, expected",
    [
        (10.0, "10.0000"),
        ("1.0E7", "10000000.0000"),
        (Decimal("1.0E7"), "10000000.0000"),
        (5, "5.0000"),
        (None, "0.0000"),
        ("-3.14159", "-3.1416"),
    ],
)
def test_java_style_numbers_become_decimals(raw, expected):
    assert to_money(raw) == Decimal(expected)


def test_epoch_milliseconds_become_aware_utc():
    moment = from_millis(1429324653274)
    assert moment.isoformat() == "2015-04-18T02:37:33.274000+00:00"
    assert from_millis(0) is None


@responses.activate
def test_java_numbers_in_a_real_answer_are_parsed_without_float(client):
    answer(
        "GetCustomer",
        '{"retCode":0,"infoCustomers":[{"account":"10011","name":"10011","money":1.0E7,'
        '"limitMoney":0.0,"feeRateGroup":"用户","type":1,"lockType":0,"agentAccount":"111",'
        '"phoneBookLimit":2147483647,"startTime":1429324653274,"validTime":1431916653274,'
        '"todayConsumption":0.1,"memo":"","infoCustomerAdditional":{"cardType":0,"reportType":0}}]}',
    )
    (customer,) = client.get_customers(["10011"])
    assert customer.money == Decimal("10000000")
    assert customer.today_consumption == Decimal("0.1")
    assert customer.agent_account == "111"
    assert customer.start_time.year == 2015


@responses.activate
@pytest.mark.parametrize(
    "body, status",
    [
        ("", 200),
        ("<html>Internal error</html>", 200),
        ("[1, 2]", 200),
        ('{"foo": 1}', 200),
        ("Service Unavailable", 503),
    ],
)
def test_garbage_answers_are_unavailable_errors(client, body, status):
    answer("GetAllCustomers", body, status=status)
    with pytest.raises(VosUnavailable):
        client.get_all_customers()
    assert len(responses.calls) == 3  # a read is retried


@responses.activate
def test_a_malformed_answer_is_named_and_logged(client, caplog):
    answer("GetCustomer", {"retCode": 0, "infoCustomers": {"account": "1"}})
    with pytest.raises(VosMalformed, match="infoCustomers is not a list"):
        client.get_customers(["1"])
    assert "malformed answer" in caplog.text


@responses.activate
def test_wrong_types_inside_the_one_record_asked_for_are_malformed(client):
    answer("GetCustomer", {"retCode": 0, "infoCustomers": [{"account": "1", "money": "lots"}]})
    with pytest.raises(VosMalformed, match="money"):
        client.get_customer("1")


@responses.activate
def test_a_record_with_wrong_types_in_a_batch_is_skipped_logged_and_counted(client, caplog):
    records = [{"account": "1", "money": "lots"}, {"account": "2", "money": 2.5}]
    answer("GetCustomer", {"retCode": 0, "infoCustomers": records})
    (customer,) = client.get_customers(["1", "2"])
    assert customer.account == "2"
    assert client.stats.skipped == {"GetCustomer": 1}
    (line,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert line.levelname == "WARNING" and "GetCustomer" in line.getMessage()
    assert "of 1:" in line.getMessage() and "money" in line.getMessage()


@responses.activate
def test_missing_optional_keys_extra_keys_and_nulls_are_tolerated(client):
    answer(
        "GetCustomer",
        {
            "retCode": 0,
            "infoCustomers": [
                {"account": "1", "money": 2.5, "canceled": False, "category": 3, "name": None}
            ],
        },
    )
    (customer,) = client.get_customers(["1"])
    assert customer.money == Decimal("2.5")
    assert customer.name == ""
    assert customer.limit_money == 0
    assert customer.locked is False


@responses.activate
def test_a_rejection_carries_retcode_and_message_and_is_not_retried(client):
    answer("ModifyCustomer", {"retCode": -10124, "exception": "Input parameter error"})
    with pytest.raises(VosRejected) as caught:
        client.modify_customer(account="1", lock_type=1)
    assert caught.value.ret_code == -10124
    assert caught.value.message == "Input parameter error"
    assert len(responses.calls) == 1


@responses.activate
def test_not_found_is_its_own_error(client):
    answer("GetCustomer", {"retCode": -10007, "exception": "Not found, operation failed."})
    with pytest.raises(VosNotFound):
        client.get_customer("nobody")


@responses.activate
def test_get_customer_batches_split_when_vos_refuses_a_batch_with_an_unknown_account(client):
    def reply(request):
        asked = json.loads(request.body)["accounts"]
        if "ghost" in asked:
            return 200, {}, json.dumps({"retCode": -10007, "exception": "Not found"})
        return (
            200,
            {},
            json.dumps(
                {"retCode": 0, "infoCustomers": [{"account": a, "money": 1.0} for a in asked]}
            ),
        )

    responses.add_callback(responses.POST, f"{ROOT}/GetCustomer", callback=reply)
    found = client.get_customers(["a", "b", "ghost", "c"], batch_size=4)
    assert sorted(c.account for c in found) == ["a", "b", "c"]


@responses.activate
def test_a_pay_answer_lost_after_sending_is_outcome_unknown_and_never_resent(client):
    responses.add(responses.POST, f"{ROOT}/Pay", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(PayOutcomeUnknown):
        client.pay(account="1001", amount=Decimal("5"), memo="portal#1")
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("body, status", [("", 200), ("oops", 500), ('{"retCode":-99999}', 200)])
def test_a_pay_with_a_garbled_or_unexplained_answer_is_outcome_unknown(client, body, status):
    answer("Pay", body, status=status)
    with pytest.raises(PayOutcomeUnknown):
        client.pay(account="1001", amount=Decimal("5"))
    assert len(responses.calls) == 1


@responses.activate
def test_a_pay_refused_on_validation_is_a_rejection(client):
    answer("Pay", {"retCode": -10007, "exception": "Not found, operation failed."})
    with pytest.raises(VosNotFound):
        client.pay(account="nobody", amount=Decimal("5"))


def test_a_pay_that_cannot_connect_was_never_sent():
    client = VosClient("http://127.0.0.1:9/external/server", connect_timeout=0.5, read_timeout=1)
    with pytest.raises(VosUnavailable) as caught:
        client.pay(account="1001", amount=Decimal("5"))
    assert not isinstance(caught.value, PayOutcomeUnknown)


def test_pay_refuses_floats():
    client = VosClient(ROOT)
    with pytest.raises(TypeError):
        client.pay(account="1", amount=5.0)  # type: ignore[arg-type]


@responses.activate
def test_cdr_windows_are_halved_on_minus_10033_and_the_limit_remembered(client):
    client.cdr_window_days = 4
    windows = []

    def reply(request):
        body = json.loads(request.body)
        first, last = (
            date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in (body["beginTime"], body["endTime"])
        )
        windows.append((first.day, last.day))
        if (last - first).days + 1 > 2:  # this installation allows 2-day windows
            return (
                200,
                {},
                json.dumps({"retCode": -10033, "exception": "Over the limitation", "infoCdrs": []}),
            )
        return 200, {}, json.dumps({"retCode": 0, "infoCdrs": []})

    responses.add_callback(responses.POST, f"{ROOT}/GetCdr", callback=reply)
    client.get_cdrs(accounts=["1"], begin=date(2026, 11, 1), end=date(2026, 11, 8))
    assert windows == [(1, 4), (1, 2), (3, 4), (5, 6), (7, 8)]
    assert client.cdr_window_days == 2


@responses.activate
def test_a_single_day_refused_with_minus_10033_is_raised(client):
    answer("GetCdr", {"retCode": -10033, "exception": "Over the limitation", "infoCdrs": []})
    with pytest.raises(VosIntervalTooLong):
        client.get_cdrs(accounts=["1"], begin=date(2026, 11, 1), end=date(2026, 11, 1))


@responses.activate
def test_every_call_is_logged_with_interface_duration_and_retcode(client, caplog):
    caplog.set_level("INFO", logger="telephony.vos")
    answer("CreatePhone", {"retCode": 0})
    client.create_phone(e164="861", account="1", customer_password="s3cret-web")
    line = [r.getMessage() for r in caplog.records if "CreatePhone" in r.getMessage()][0]
    assert "retCode=0" in line and "ms" in line
    assert "s3cret-web" not in caplog.text


@responses.activate
def test_customer_batches_ask_again_after_a_garbled_answer(client):
    garbled = []

    def reply(request):
        asked = json.loads(request.body)["accounts"]
        if asked == ["a"] and not garbled:
            garbled.append(asked)
            return 200, {}, "<html>Apache Tomcat: error</html>"
        records = [{"account": name, "money": 2.5} for name in asked]
        return 200, {}, json.dumps({"retCode": 0, "infoCustomers": records})

    responses.add_callback(responses.POST, f"{ROOT}/GetCustomer", callback=reply)

    batches = list(client.get_customer_batches([["a"], ["b"]]))

    asked = [json.loads(call.request.body)["accounts"] for call in responses.calls]
    assert sorted(asked) == [["a"], ["a"], ["b"]]
    assert [[c.account for c in answers] for _, answers in batches] == [["a"], ["b"]]
    assert batches[0][1][0].decode().money == Decimal("2.5000")


def _refusing_longer_than(limit: int, windows: list, key: str):
    def reply(request):
        body = json.loads(request.body)
        first, last = (
            date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in (body["beginTime"], body["endTime"])
        )
        windows.append((first, last))
        if (last - first).days + 1 > limit:
            return 200, {}, json.dumps({"retCode": -10033, "exception": "Over the limitation"})
        return 200, {}, json.dumps({"retCode": 0, key: []})

    return reply


@responses.activate
@pytest.mark.parametrize("limit, days", [(1, 8), (2, 7), (3, 10), (4, 31), (6, 13), (31, 31)])
def test_fee_report_windows_ask_what_the_sync_asked_before(client, limit, days):
    def _fee_report_windows(client, accounts, first, last):
        """The fee-report sync's own halving before it moved into the client (kept verbatim)."""
        pending = [(first, last)]
        while pending:
            begin, end = pending.pop(0)
            try:
                yield begin, end, client.get_fee_report(accounts=accounts, begin=begin, end=end)
            except VosIntervalTooLong:
                if begin == end:
                    raise
                middle = begin + timedelta(days=(end - begin).days // 2)
                pending[:0] = [(begin, middle), (middle + timedelta(days=1), end)]

    asked_now: list = []
    asked_before: list = []
    first = date(2026, 11, 1)
    last = date.fromordinal(first.toordinal() + days - 1)
    url = f"{ROOT}/GetReportCustomerFee"
    reply = _refusing_longer_than(limit, asked_now, "infoReportCustomerFees")
    responses.add_callback(responses.POST, url, callback=reply)
    now = [w[:2] for w in client.fee_report_windows(accounts=["1"], first=first, last=last)]
    responses.reset()
    reply = _refusing_longer_than(limit, asked_before, "infoReportCustomerFees")
    responses.add_callback(responses.POST, url, callback=reply)
    before = [w[:2] for w in _fee_report_windows(client, ["1"], first, last)]
    assert now == before
    assert asked_now == asked_before


# --- the envelope fails the call, a record is skipped -----------------------------------------

LIST_CALLS = {
    "GetCustomer": ("infoCustomers", lambda c: c.get_customers(["1", "2"])),
    "GetAllCustomers": ("infoCustomerBriefs", lambda c: c.get_all_customer_briefs()),
    "GetCdr": (
        "infoCdrs",
        lambda c: c.get_cdrs(accounts=["1"], begin=date(2026, 1, 1), end=date(2026, 1, 1)),
    ),
    "GetPayHistory": (
        "infoPayHistorys",
        lambda c: c.get_pay_history(account="1", begin=AT, end=AT),
    ),
    "GetConsumption": (
        "infoConsumptions",
        lambda c: c.get_consumption(account="1", begin=AT, end=AT),
    ),
    "GetReportCustomerFee": (
        "infoReportCustomerFees",
        lambda c: c.get_fee_report(accounts=["1"], begin=date(2026, 1, 1), end=date(2026, 1, 1)),
    ),
    "GetPhone": ("infoPhones", lambda c: c.get_phones(accounts=["1"])),
    "GetCustomerPhoneBook": ("infoCustomerPhoneBooks", lambda c: c.get_phone_book(account="1")),
}
JAN_2026 = 1767225600000
GOOD = {
    "GetCustomer": {"account": "2", "money": 1.5},
    "GetAllCustomers": {"account": "2", "money": 1.5},
    "GetCdr": {"account": "2", "start": JAN_2026, "fee": 0.1, "holdTime": 3},
    "GetPayHistory": {"account": "2", "fee": 5, "payTime": JAN_2026},
    "GetConsumption": {"account": "2", "money": -1, "time": JAN_2026},
    "GetReportCustomerFee": {"account": "2", "cdrCount": 3, "totalFee": 1.2},
    "GetPhone": {"e164": "8613800000002", "account": "2"},
    "GetCustomerPhoneBook": {"e164": "8613800000002", "name": "Li"},
}
BAD_RECORDS = [
    None,
    [],
    "1",
    7,
    {"account": "1", "e164": "8613800000001"},  # start/payTime/time missing where needed
    {"account": "1", "e164": "1", "start": -5, "payTime": -5, "time": -5, "money": "lots"},
    {"account": {"a": 1}, "e164": ["1"], "fee": True, "money": True, "lockType": True},
    {"account": "1", "e164": "1", "fee": 1e30, "money": 1e30, "totalFee": 1e30, "time": 10**20},
]


@responses.activate
@pytest.mark.parametrize("interface", sorted(LIST_CALLS))
@pytest.mark.parametrize("bad", BAD_RECORDS, ids=range(len(BAD_RECORDS)))
def test_a_list_answer_keeps_its_good_records_and_skips_a_bad_one(client, interface, bad, caplog):
    key, ask = LIST_CALLS[interface]
    if interface in ("GetCdr", "GetPayHistory", "GetConsumption") and isinstance(bad, dict):
        bad = {k: v for k, v in bad.items() if k not in ("start", "payTime", "time")} | {
            "start": -5,
            "payTime": -5,
            "time": -5,
        }
    if interface == "GetReportCustomerFee" and isinstance(bad, dict):
        bad = bad | {"cdrCount": -1}
    if interface in ("GetPhone", "GetCustomerPhoneBook") and isinstance(bad, dict):
        bad = bad | {"e164": {"no": 1}}
    if interface == "GetCustomer" and isinstance(bad, dict):
        bad = bad | {"money": "lots"}
    if interface == "GetAllCustomers" and isinstance(bad, dict):
        bad = bad | {"money": True}
    answer(interface, {"retCode": 0, key: [bad, GOOD[interface]]})

    found = ask(client)

    assert len(found) == 1
    assert client.stats.skipped == {interface: 1}
    skipped = [r for r in caplog.records if "skipped a malformed record" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].levelname == "WARNING"
    assert interface in skipped[0].getMessage()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@responses.activate
@pytest.mark.parametrize("interface", sorted(LIST_CALLS))
@pytest.mark.parametrize("envelope", [None, {"account": "1"}, "[]", 5])
def test_a_list_key_that_is_not_a_list_fails_the_whole_call(client, interface, envelope):
    key, ask = LIST_CALLS[interface]
    answer(interface, {"retCode": 0, key: envelope})
    with pytest.raises(VosMalformed, match=f"{key} is not a list"):
        ask(client)


@responses.activate
def test_all_customers_without_a_list_is_malformed_not_empty(client):
    answer("GetAllCustomers", {"retCode": 0})
    with pytest.raises(VosMalformed, match="accounts"):
        client.get_all_customers()


@responses.activate
def test_all_customers_skips_an_account_that_is_not_a_string(client):
    answer("GetAllCustomers", {"retCode": 0, "accounts": ["1", {"a": 1}, None, "", 2]})
    assert client.get_all_customers() == ["1", "2"]
    assert client.stats.skipped == {"GetAllCustomers": 1}


@responses.activate
@pytest.mark.parametrize(
    "info",
    [
        {"account": "1", "money": 1e30},
        {"account": "1", "money": "NaN"},
        {"account": ["1"], "money": 5},
        {"account": "1", "money": 5, "validTime": 10**20},
    ],
)
def test_a_pay_answered_with_a_garbled_info_pay_is_outcome_unknown(client, info):
    answer("Pay", {"retCode": 0, "infoPay": info})
    with pytest.raises(PayOutcomeUnknown):
        client.pay(account="1", amount=Decimal("5"))


@responses.activate
@pytest.mark.parametrize(
    "body",
    [
        '{"retCode":0,"infoCustomers":[{"account":"1","money":NaN}]}',
        '{"retCode":0,"infoCustomers":[{"account":"1","money":Infinity}]}',
        '{"retCode":0,"infoCustomers":' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"retCode":0,"infoCustomers":[{"account":"1","money":1234567890123456789}]}',
    ],
)
def test_hostile_answers_are_malformed_never_another_error(client, body):
    answer("GetCustomer", body)
    with pytest.raises(VosMalformed):
        client.get_customer("1")
