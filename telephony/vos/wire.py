"""Values on the wire: one decoder per kind, each range-checked against the column it lands in.

VOS sends JSON with Java-style numbers (``10.0``, ``1.0E7``), epoch milliseconds and strings
where a field is missing or null. Every decoder here either returns a value the portal can
store, or raises :class:`MalformedRecord` naming the interface and the field; it never lets
another exception through. The client and the push receiver both decode with these.

The rules (the columns are in telephony/models.py and billing/models.py):

* money: finite, at most 14 integer digits, quantized to 4 places (``max_digits=18,
  decimal_places=4``); negative money is allowed (balances go below zero). Absent, null or
  ``""`` is 0. Strings holding a number (``"3.5"``) are read; booleans are not numbers.
* integers: whole numbers within the column's type (IntegerField unless a decoder says
  otherwise); counts and durations are never negative.
* times: epoch milliseconds between 2000-01-01 and 2100-12-31 UTC; 0, null or absent is
  "no time" (None); anything else, negative included, is malformed.
* strings: numbers are written as their digits; objects, lists and booleans are malformed.
  Values are passed on whole (the sync code cuts them to their columns, and natural keys are
  computed over the whole value); a value longer than ``MAX_TEXT`` characters is refused,
  or cut there where the field is free text.
* JSON bodies: UTF-8, an object at the top level, no NaN/Infinity, nested at most
  ``MAX_DEPTH`` deep.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .errors import MalformedRecord, VosMalformed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOUR_PLACES = Decimal("0.0001")
# DecimalField(max_digits=18, decimal_places=4): 14 digits before the point.
MONEY_DIGITS = 14
MONEY_LIMIT = Decimal(10) ** MONEY_DIGITS

INT32 = (-(2**31), 2**31 - 1)  # IntegerField
INT64 = (-(2**63), 2**63 - 1)  # BigIntegerField
SMALL = (-(2**15), 2**15 - 1)  # SmallIntegerField
POSITIVE_SMALL = (0, 2**15 - 1)  # PositiveSmallIntegerField
POSITIVE_INT = (0, 2**31 - 1)  # PositiveIntegerField; counts and durations
POSITIVE_INT64 = (0, 2**63 - 1)  # BigIntegerField that cannot be negative (total seconds)

MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2101, 1, 1, tzinfo=UTC) - timedelta(milliseconds=1)
MIN_MILLIS = (MIN_TIME - EPOCH) // timedelta(milliseconds=1)
MAX_MILLIS = (MAX_TIME - EPOCH) // timedelta(milliseconds=1)

MAX_TEXT = 1024  # four times the widest column a VOS string lands in (memo, 255)
MAX_NUMBER_TEXT = 64  # "-12345678901234.1234" is 20; anything much longer is not a number
MAX_DEPTH = 64


def _bad(interface: str, field_name: str, what: str, value: Any) -> MalformedRecord:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return MalformedRecord(interface, f"{field_name or 'a value'} {what}: {shown}")


def _number(value: Any, field_name: str, interface: str, what: str) -> Decimal:
    """A finite Decimal from a JSON number, a float or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _bad(interface, field_name, what, value)
    if isinstance(value, str) and len(value) > MAX_NUMBER_TEXT:
        raise _bad(interface, field_name, what, value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _bad(interface, field_name, what, value) from exc
    if not number.is_finite():
        raise _bad(interface, field_name, what, value)
    return number


def to_money(value: Any, *, field_name: str = "money", interface: str = "") -> Decimal:
    """A VOS number (``10.0``, ``1.0E7``, ``"3.5"``, ``5``) as Decimal with 4 places."""
    kind = type(value)
    if kind is Decimal or kind is int:  # what the JSON decoder gives: the common case
        number = value if kind is Decimal else Decimal(value)
        if not number.is_finite():
            raise _bad(interface, field_name, "is not a number", value)
    elif value is None or value == "":
        return Decimal("0")
    else:
        number = _number(value, field_name, interface, "is not a number")
    # More than 14 integer digits; told by the exponent (abs() could overflow the context,
    # quantize could not hold the digits).
    if number and number.adjusted() >= MONEY_DIGITS:
        raise _bad(interface, field_name, "has more than 14 integer digits", value)
    money = number.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN)
    if abs(money) >= MONEY_LIMIT:  # 99999999999999.99995 rounds up to 15 digits
        raise _bad(interface, field_name, "has more than 14 integer digits", value)
    return money


def to_optional_money(value: Any, *, field_name: str, interface: str) -> Decimal | None:
    """Money where absent/null means "not sent" (None) rather than 0."""
    return None if value is None else to_money(value, field_name=field_name, interface=interface)


def to_int(
    value: Any,
    *,
    default: int = 0,
    field_name: str = "",
    interface: str = "",
    bounds: tuple[int, int] = INT32,
) -> int:
    """A whole number within ``bounds`` (the column's type); absent/null/``""`` is default."""
    if type(value) is int:  # the common case, before the slower checks
        number: int | Decimal = value
    elif value is None or value == "":
        return default
    else:
        number = _number(value, field_name, interface, "is not an integer")
        if number != number.to_integral_value():
            raise _bad(interface, field_name, "is not an integer", value)
    low, high = bounds
    if not low <= number <= high:  # before int(): 1E+999999999 must not become digits
        raise _bad(interface, field_name, f"is outside {low}..{high}", value)
    return int(number)


def from_millis(value: Any, *, field_name: str = "", interface: str = "") -> datetime | None:
    """Epoch milliseconds (VOS's time format) as an aware UTC datetime; 0/absent is None."""
    if value is None or value == "" or (type(value) is int and value == 0):
        return None
    millis = to_int(value, field_name=field_name, interface=interface, bounds=INT64)
    if millis == 0:
        return None
    if not MIN_MILLIS <= millis <= MAX_MILLIS:
        raise _bad(interface, field_name, "is not a time between 2000 and 2100", value)
    return EPOCH + timedelta(milliseconds=millis)


def to_millis(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def to_str(
    value: Any,
    *,
    field_name: str = "",
    interface: str = "",
    max_length: int = MAX_TEXT,
    cut: bool = False,
) -> str:
    """A string field; numbers become their digits, null is ``""``.

    Longer than ``max_length``: refused, or cut there when ``cut`` (free text).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        text = str(value)
    else:
        raise _bad(interface, field_name, "is not a string", value)
    if len(text) > max_length:
        if not cut:
            raise _bad(interface, field_name, f"is longer than {max_length}", value)
        text = text[:max_length]
    return text


def to_text(value: Any, *, field_name: str = "", interface: str = "") -> str:
    """Free text (names, memos): cut at ``MAX_TEXT`` instead of refused."""
    return to_str(value, field_name=field_name, interface=interface, cut=True)


def format_day(day: date) -> str:
    """``yyyyMMdd`` (GetCdr, fee reports). ``day`` is a day of the server's own calendar."""
    return day.strftime("%Y%m%d")


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """``yyyyMMddHHmmss`` in the server's time zone (GetPayHistory, GetConsumption)."""
    if moment.tzinfo is None:
        raise ValueError("format_time needs an aware datetime")
    return moment.astimezone(tz).strftime("%Y%m%d%H%M%S")


def encode_body(payload: dict[str, Any]) -> bytes:
    """JSON in UTF-8, with Decimal written as its exact digits (never through float)."""
    tokens: dict[str, str] = {}

    def swap(value: Any) -> Any:
        if isinstance(value, Decimal):
            token = f"__dec_{uuid.uuid4().hex}__"
            tokens[f'"{token}"'] = format(value, "f")
            return token
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [swap(item) for item in value]
        return value

    text = json.dumps(swap(payload), ensure_ascii=False, separators=(",", ":"))
    for token, digits in tokens.items():
        text = text.replace(token, digits)
    return text.encode("utf-8")


# --- JSON bodies -------------------------------------------------------------------------------

_CONTAINERS = frozenset({dict, list})


def _nested_deeper(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Does decoded JSON nest objects/arrays deeper than ``limit`` (the top one is level 1)?

    Walked level by level over the decoded values, not over the text: a record without
    containers is passed over in one C-level pass, so a 10,000-record answer costs a small
    part of its decoding (scanning the text outside its strings cost several times it).
    """
    level = [data]
    for _ in range(limit):
        below: list[Any] = []
        for container in level:
            values = container.values() if type(container) is dict else container
            if not _CONTAINERS.isdisjoint(map(type, values)):
                below += [value for value in values if type(value) in _CONTAINERS]
        if not below:
            return False
        level = below
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_object(
    body: bytes | str, interface: str, *, error: type[VosMalformed] = VosMalformed
) -> dict[str, Any]:
    """A JSON object from a body; anything else raises ``error`` (a VosMalformed)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise error(interface, f"answer is not UTF-8: {body[:60]!r}") from exc
    if not text.strip():
        # VOS answers an unparseable request, and some internal errors, with an empty 200.
        raise error(interface, "empty answer")
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise error(interface, f"answer is nested deeper than {MAX_DEPTH}") from exc
    except ValueError as exc:
        raise error(interface, f"answer is not JSON: {text[:60]!r}") from exc
    if not isinstance(data, dict):
        raise error(interface, "answer is not a JSON object")
    # Fewer brackets than the limit cannot nest deeper (brackets in strings only add).
    if text.count("[") + text.count("{") > MAX_DEPTH and _nested_deeper(data):
        raise error(interface, f"answer is nested deeper than {MAX_DEPTH}")
    return data


def _list(data: dict[str, Any], key: str, interface: str) -> list[Any]:
    """The list under ``key``; absent means empty (VOS drops empty lists).

    The list itself is the envelope: null or anything but a list is malformed. Its items are
    records, checked one by one where they are decoded.
    """
    if key not in data:
        return []
    value = data[key]
    if not isinstance(value, list):
        raise VosMalformed(interface, f"{key} is not a list")
    return value


def _record(record: Any, interface: str) -> dict[str, Any]:
    """A record of a list: it must be an object."""
    if not isinstance(record, dict):
        raise _bad(interface, "a record", "is not an object", record)
    return record


def _required_str(record: dict[str, Any], key: str, interface: str) -> str:
    value = record.get(key)
    if value is None or value == "":
        raise MalformedRecord(interface, f"a record has no {key}")
    return to_str(value, field_name=key, interface=interface)


class Fields:
    """One wire record, read field by field with the decoders above."""

    __slots__ = ("get", "interface", "record")

    def __init__(self, record: Any, interface: str):
        self.record = _record(record, interface)
        self.get = self.record.get
        self.interface = interface

    def required(self, key: str) -> str:
        return _required_str(self.record, key, self.interface)

    def str(self, key: str) -> str:
        return to_str(self.get(key), field_name=key, interface=self.interface)

    def text(self, key: str) -> str:
        return to_text(self.get(key), field_name=key, interface=self.interface)

    def money(self, key: str) -> Decimal:
        return to_money(self.get(key), field_name=key, interface=self.interface)

    def optional_money(self, key: str) -> Decimal | None:
        return to_optional_money(self.get(key), field_name=key, interface=self.interface)

    def int(self, key: str, bounds: tuple[int, int] = INT32) -> int:
        return to_int(self.get(key), field_name=key, interface=self.interface, bounds=bounds)

    def optional_int(self, key: str, bounds: tuple[int, int] = INT32) -> int | None:
        if self.get(key) in (None, ""):
            return None
        return self.int(key, bounds)

    def time(self, key: str) -> datetime | None:
        return from_millis(self.get(key), field_name=key, interface=self.interface)

    def required_time(self, key: str) -> datetime:
        moment = self.time(key)
        if moment is None:
            raise MalformedRecord(self.interface, f"a record has no {key}")
        return moment
