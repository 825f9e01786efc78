"""Property tests: whatever the switch (or a push sender) sends, decoding gives a typed record
or VosMalformed, never another exception."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telephony.vos import (
    CdrRecord,
    ConsumptionRecord,
    Customer,
    CustomerAnswer,
    CustomerBrief,
    FeeReportRow,
    PayHistoryRecord,
    PayResult,
    PhoneBookEntry,
    PhoneInfo,
    VosClient,
    VosMalformed,
    decode_object,
)
from telephony.vos.records import CUSTOMER_WIRE_KEYS
from telephony.vos.wire import MAX_DEPTH

FAST = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

# Any JSON value as the decoder gives it (floats as Decimal), including hostile numbers.
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1E+999999999"), Decimal("-1E-999999999"), 10**20, -1, 0]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

FIELDS = {
    Customer: CUSTOMER_WIRE_KEYS,
    CustomerAnswer: CUSTOMER_WIRE_KEYS,
    CustomerBrief: ("account", "money", "limitMoney", "agentAccount"),
    PayResult: ("account", "money", "payMoney", "validTime"),
    PayHistoryRecord: ("account", "fee", "type", "payType", "customerMoney", "payTime", "memo"),
    CdrRecord: (
        "account",
        "agentAccount",
        "callerE164",
        "calleeE164",
        "callerip",
        "start",
        "stop",
        "holdTime",
        "feeTime",
        "fee",
        "callLevel",
        "endDirection",
        "endReason",
        "flowNo",
    ),
    FeeReportRow: (
        "account",
        "accountName",
        "beginTime",
        "endTime",
        "cdrCount",
        "totalFee",
        "totalTime",
    ),
    ConsumptionRecord: ("account", "money", "customerMoney", "type", "consumptionName", "time"),
    PhoneInfo: ("e164", "account", "customerPassword", "displayNumber", "lockType", "memo"),
    PhoneBookEntry: (
        "e164",
        "name",
        "shortE164s",
        "department",
        "deviceType",
        "addressType",
        "type",
        "memo",
        "lastUpdateTime",
    ),
}
# A record that decodes: each property changes some of its fields to anything.
VALID = {
    "account": "1001",
    "e164": "8613800000001",
    "start": 1767225600000,
    "payTime": 1767225600000,
    "time": 1767225600000,
}


def records_for(kind):
    keys = FIELDS[kind]
    changed = st.dictionaries(st.sampled_from(keys), json_values, max_size=len(keys))
    return st.one_of(json_values, changed.map(lambda fields: VALID | fields))


def _decodes_or_is_malformed(kind, record):
    try:
        result = kind.from_wire(record)
    except VosMalformed:
        return
    assert isinstance(result, kind)
    if kind is CustomerAnswer:
        try:
            result.decode()
        except VosMalformed:
            return
    for name in ("natural_key", "digest"):
        if hasattr(result, name):
            assert isinstance(getattr(result, name), str)


@pytest.mark.parametrize("kind", list(FIELDS), ids=lambda kind: kind.__name__)
def test_from_wire_gives_a_record_or_malformed(kind):
    @FAST
    @given(records_for(kind))
    def check(record):
        _decodes_or_is_malformed(kind, record)

    check()


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_are_an_answer_or_malformed(body):
    try:
        data = VosClient._decode("GetCustomer", body)
    except VosMalformed:
        return
    assert isinstance(data, dict) and type(data["retCode"]) is int


@FAST
@given(
    st.one_of(st.integers(min_value=1, max_value=80), st.just(10_000)),
    st.sampled_from(["[", '{"a":', '[{"b":']),
    st.booleans(),
)
def test_deeply_nested_bodies_are_malformed_or_shallow(depth, opener, closed):
    closer, levels = {"[": ("]", 1), '{"a":': ("}", 1), '[{"b":': ("}]", 2)}[opener]
    inner = opener * depth + "1" + closer * depth if closed else opener * depth
    body = ('{"retCode":0,"x":' + inner + "}").encode()
    try:
        data = VosClient._decode("GetCustomer", body)
    except VosMalformed:
        return
    assert closed and 1 + depth * levels <= MAX_DEPTH
    assert isinstance(data, dict)


@FAST
@given(json_values)
def test_any_json_value_as_a_body_is_an_object_or_malformed(value):
    body = json.dumps(value, default=str).encode()
    try:
        data = decode_object(body, "CustomerMoneyChange")
    except VosMalformed:
        return
    assert isinstance(data, dict)


# A GetCdr record as a switch sends it, and values near each field's edges.
CDR_WIRE = {
    "account": "1001",
    "agentAccount": "a0001",
    "callerE164": "8613800000001",
    "callerAccessE164": "8613800000001",
    "calleeE164": "8613929668761",
    "calleeAccessE164": "8613929668761",
    "callerGateway": "",
    "calleeGateway": "GW-CN-MOBILE",
    "callerip": "203.0.113.105",
    "calleeip": "198.51.100.11",
    "start": 1767225600000,
    "stop": 1767225705000,
    "holdTime": 96,
    "feeTime": 120,
    "fee": Decimal("0.1"),
    "feePrefix": "86139",
    "callLevel": 4,
    "endDirection": 1,
    "endReason": 16,
    "flowNo": 1767225600000165,
}
edge_values = st.one_of(
    st.sampled_from(
        [None, "", 0, -1, 1, True, 2**15 - 1, 2**15, 2**31 - 1, 2**31, -(2**31) - 1, 2**63]
    ),
    st.sampled_from([946684800000 - 1, 946684800000, 4133980799999, 4133980800000]),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.text(max_size=3),
    st.text(min_size=1020, max_size=1030, alphabet="9"),
    json_values,
)


@FAST
@given(
    st.dictionaries(st.sampled_from(sorted(CDR_WIRE)), edge_values, max_size=4),
    st.sets(st.sampled_from(sorted(CDR_WIRE)), max_size=3),
)
def test_a_cdr_decodes_as_field_by_field_decoding_does(changed, dropped):
    """The plain-record shortcut of CdrRecord.from_wire gives exactly the field-by-field
    result: the same record, or the same error."""
    record = {k: v for k, v in (CDR_WIRE | changed).items() if k not in dropped}

    def decoded(decode):
        try:
            return decode(record, "GetCdr")
        except VosMalformed as exc:
            return exc.message

    by_fields = decoded(CdrRecord._from_fields)
    assert decoded(CdrRecord.from_wire) == by_fields
    if isinstance(by_fields, CdrRecord):
        assert str(CdrRecord.from_wire(record).fee) == str(by_fields.fee)
