"""Every value from the switch is range-checked against the column it lands in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from telephony.vos import (
    CdrRecord,
    Customer,
    FeeReportRow,
    PayHistoryRecord,
    VosClient,
    VosMalformed,
    decode_object,
    from_millis,
    to_int,
    to_money,
    to_str,
)
from telephony.vos.wire import MAX_DEPTH, MAX_TEXT, POSITIVE_INT

JAN_2026 = 1767225600000


# --- money ---


@pytest.mark.parametrize(
    "raw",
    [
        Decimal("1234567890123456789"),  # 19 digits
        1234567890123456789,
        "1234567890123456789",
        Decimal("1e30"),
        Decimal("-1e30"),
        Decimal("99999999999999.99995"),  # rounds up to 15 integer digits
        Decimal("1E+999999999"),
        Decimal("NaN"),
        Decimal("Infinity"),
        "NaN",
        "-Infinity",
        float("nan"),
        float("inf"),
        True,
        [1],
        {"v": 1},
        "1" * 100_000,
    ],
)
def test_money_outside_its_column_is_malformed(raw):
    with pytest.raises(VosMalformed, match="balance"):
        to_money(raw, field_name="balance", interface="GetCustomer")


@pytest.mark.parametrize(
    "raw, expected",
    [
        (Decimal("99999999999999.9999"), "99999999999999.9999"),
        (Decimal("-99999999999999.9999"), "-99999999999999.9999"),
        (Decimal("0.00005"), "0.0000"),  # half even
        (Decimal("0.00015"), "0.0002"),
        (Decimal("1.0E7"), "10000000.0000"),
        ("12.5", "12.5000"),
        (-3, "-3.0000"),
    ],
)
def test_money_within_its_column_is_quantized_to_four_places(raw, expected):
    money = to_money(raw)
    assert money == Decimal(expected)
    assert money.as_tuple().exponent == -4


# --- integers ---


@pytest.mark.parametrize(
    "raw",
    [2**31, -(2**31) - 1, Decimal("1e30"), "1E+999999999", True, False, 1.5, "one", [], {}],
)
def test_integers_outside_their_column_or_not_whole_are_malformed(raw):
    with pytest.raises(VosMalformed, match="lockType"):
        to_int(raw, field_name="lockType", interface="GetCustomer")


def test_integers_take_the_bounds_of_their_column():
    assert to_int(2**31 - 1) == 2**31 - 1
    assert to_int("12") == 12
    assert to_int(Decimal("12.0")) == 12
    with pytest.raises(VosMalformed):
        to_int(-1, field_name="holdTime", bounds=POSITIVE_INT)


@pytest.mark.parametrize(
    "field, value",
    [("holdTime", -5), ("feeTime", -1), ("holdTime", 2**31), ("callLevel", 40000)],
)
def test_negative_or_oversized_durations_make_a_cdr_malformed(field, value):
    record = {"account": "1", "start": JAN_2026, field: value}
    with pytest.raises(VosMalformed, match=field):
        CdrRecord.from_wire(record)


def test_negative_counts_make_a_fee_report_row_malformed():
    with pytest.raises(VosMalformed, match="cdrCount"):
        FeeReportRow.from_wire({"account": "1", "cdrCount": -1})


def test_negative_money_is_allowed():
    customer = Customer.from_wire({"account": "1", "money": -12.5})
    assert customer.money == Decimal("-12.5")


# --- times ---


@pytest.mark.parametrize(
    "raw",
    [
        10**20,  # far future: datetime would overflow
        253402300800000,  # year 10000
        4133980800000,  # 2101-01-01
        -1,
        -1429324653274,
        946684799999,  # the last millisecond of 1999
        Decimal("1e400"),
        True,
        "soon",
    ],
)
def test_times_outside_2000_to_2100_are_malformed(raw):
    with pytest.raises(VosMalformed, match="payTime"):
        from_millis(raw, field_name="payTime", interface="GetPayHistory")


def test_times_at_the_edges_and_no_time():
    assert from_millis(946684800000) == datetime(2000, 1, 1, tzinfo=UTC)
    assert from_millis(4133980799999).year == 2100
    assert from_millis(0) is None
    assert from_millis(None) is None
    assert from_millis("") is None


def test_a_pay_record_far_in_the_future_is_malformed():
    with pytest.raises(VosMalformed, match="payTime"):
        PayHistoryRecord.from_wire({"account": "1", "payTime": 10**18})


# --- strings ---


def test_a_128_kb_string_is_refused_where_it_is_an_identity_and_cut_where_it_is_text():
    huge = "x" * 128 * 1024
    with pytest.raises(VosMalformed, match="account"):
        Customer.from_wire({"account": huge})
    customer = Customer.from_wire({"account": "1", "memo": huge, "name": huge})
    assert customer.memo == "x" * MAX_TEXT and customer.name == "x" * MAX_TEXT
    with pytest.raises(VosMalformed, match="callerE164"):
        CdrRecord.from_wire({"account": "1", "start": JAN_2026, "callerE164": huge})


def test_strings_longer_than_a_column_are_passed_whole_for_the_caller_to_cut():
    # The sync cuts to the column (account[:64]); natural keys are over the whole value.
    assert Customer.from_wire({"account": "a" * 100}).account == "a" * 100


@pytest.mark.parametrize("raw", [{"a": 1}, [1], True])
def test_objects_lists_and_booleans_are_not_strings(raw):
    with pytest.raises(VosMalformed, match="name"):
        to_str(raw, field_name="name", interface="GetCustomer")


def test_numbers_are_strings_of_their_digits():
    assert to_str(8613800000001) == "8613800000001"
    assert to_str(None) == ""


# --- JSON bodies ---


@pytest.mark.parametrize(
    "body",
    [
        b'{"retCode":0,"money":NaN}',
        b'{"retCode":0,"money":Infinity}',
        b'{"retCode":0,"money":-Infinity}',
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"retCode":0,"a":' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
        b"[]",
        b'"retCode"',
        b"0",
        b"null",
        b"\xff\xfe",
        b"   ",
        b'{"retCode": 1' + b"9" * 5000 + b"}",  # more digits than Python reads
    ],
)
def test_bad_bodies_are_malformed(body):
    with pytest.raises(VosMalformed):
        decode_object(body, "GetCustomer")
    with pytest.raises(VosMalformed):
        VosClient._decode("GetCustomer", body)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"retCode": 0, "memo": "[" * 500 + "{" * 500})
    assert decode_object(text.encode(), "GetCustomer")["memo"].startswith("[[[")


def test_nesting_up_to_the_limit_is_read():
    depth = MAX_DEPTH - 1
    body = b'{"retCode":0,"a":' + b"[" * depth + b"]" * depth + b"}"
    assert VosClient._decode("GetCustomer", body)["retCode"] == 0


@pytest.mark.parametrize("ret_code", ["null", "true", '"zero"', "[0]", "1.5", "99999999999"])
def test_a_ret_code_that_is_not_an_integer_is_malformed(ret_code):
    with pytest.raises(VosMalformed, match="retCode"):
        VosClient._decode("GetCustomer", b'{"retCode":' + ret_code.encode() + b"}")
