"""The VOS3000 wire format: Java-style JSON out, lenient JSON in, request field checks.

VOS3000 is a Java servlet: money is a ``double`` and prints the way ``Double.toString`` does
(``10.0``, ``-3.5``, ``1.0E7``), times are epoch milliseconds, null fields are left out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring
from typing import Any
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo

# --- retCodes -----------------------------------------------------------------------------
# Seen on real installations (VOS3000-FACTS.md).
NOT_FOUND = (-10007, "Not found, operation failed.")
INTERVAL_TOO_LONG = (
    -10033,
    "Over the limitation of inquiry interval, please contact system administrator",
)
INPUT_ERROR = (-10124, "Input parameter error")
MISSING = (-12103, "Miss parameters")
# Chosen by the emulator: the manual leaves these open (docs/EMULATOR.md, "Error codes").
ACCOUNT_EXISTS = (-10002, "Account already exists, operation failed.")
PHONE_EXISTS = (-10003, "Phone already exists, operation failed.")
ENTRY_EXISTS = (-10004, "Phone book number already exists, operation failed.")
ACCOUNT_IN_USE = (-10005, "Account is an agent of other accounts, operation failed.")
PHONE_BOOK_FULL = (-10112, "Over the phone book number limitation, operation failed.")
CARD_PASSWORD = (-10116, "Phone card password error, operation failed.")
CARD_USED = (-10117, "Phone card has been used, operation failed.")
CARD_EXPIRED = (-10118, "Phone card has expired, operation failed.")


class ApiError(Exception):
    """An answer with a non-zero retCode."""

    def __init__(self, error: tuple[int, str]):
        super().__init__(error[1])
        self.code, self.message = error


# --- numbers ------------------------------------------------------------------------------


def java_double(value: Decimal | float | int) -> str:
    """``Double.toString`` of ``value`` (shortest round-trip digits, as JDK 19+ prints them).

    Plain notation for 1e-3 <= |x| < 1e7, with at least one fractional digit; computerized
    scientific notation (``1.23456E7``, ``1.0E-4``) outside that range.
    """
    f = float(value)
    magnitude = abs(f)
    if 1e-3 <= magnitude < 1e7:
        return repr(f)  # Python prints this range plainly too, with the same shortest digits
    if f == 0:
        return "-0.0" if math.copysign(1.0, f) < 0 else "0.0"
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    sign = "-" if f < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{len(digits) + exponent - 1}"


# --- JSON out -----------------------------------------------------------------------------

_KEY_CACHE: dict[str, str] = {}


def _key(name: str) -> str:
    encoded = _KEY_CACHE.get(name)
    if encoded is None:
        encoded = _KEY_CACHE[name] = encode_basestring(name) + ":"
    return encoded


class _JsonNull:
    """A value that prints as ``null`` (None fields are left out instead)."""

    def __repr__(self) -> str:
        return "JSON_NULL"


JSON_NULL = _JsonNull()

_SCALARS: dict[type, Callable[[Any], str]] = {
    _JsonNull: lambda value: "null",
    str: encode_basestring,
    int: int.__repr__,
    bool: lambda value: "true" if value else "false",
    Decimal: java_double,
    float: java_double,
}


def dumps(obj: Any) -> str:
    """Compact JSON the way VOS prints it: Java doubles, raw UTF-8, no null fields."""
    scalar = _SCALARS.get(type(obj))  # exact types: a bool must not print as an int
    if scalar is not None:
        return scalar(obj)
    if isinstance(obj, Mapping):
        # VOS leaves null fields out.
        return "{" + ",".join(_key(k) + dumps(v) for k, v in obj.items() if v is not None) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(map(dumps, obj)) + "]"
    if obj is None:
        return "null"
    raise TypeError(f"cannot put {type(obj).__name__} on the wire")


# --- JSON in ------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_json(text: str) -> Any:
    # Decimal keeps money exact; NaN/Infinity are not JSON and a Java parser refuses them.
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def parse_body(raw: bytes, content_type: str = "") -> dict[str, Any] | None:
    """The request object, or None when the body is empty, not UTF-8 JSON, or not an object.

    The servlet reads the raw body whatever the Content-Type says. A form-encoded body
    (``%7B%22account...``) is also accepted, as a lenient reading of the vendor's test pages.
    """
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    try:
        data = _parse_json(text)
    except ValueError:
        if "form-urlencoded" not in content_type.lower():
            return None
        try:
            data = _parse_json(unquote_plus(text))
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


# --- request fields -----------------------------------------------------------------------
# A field that is absent, null, "" or [] counts as missing: the servlet checks "is empty".


def _present(body: Mapping[str, Any], name: str) -> Any:
    value = body.get(name)
    return None if value in (None, "", []) else value


def _check_str(value: Any, max_len: int) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise ApiError(INPUT_ERROR)
    return value


def req_str(body: Mapping[str, Any], name: str, max_len: int = 64) -> str:
    value = _present(body, name)
    if value is None:
        raise ApiError(MISSING)
    return _check_str(value, max_len)


def opt_str(body: Mapping[str, Any], name: str, max_len: int = 255) -> str | None:
    """An optional string; unlike required ones, "" is a real value (it clears a field)."""
    value = body.get(name)
    return None if value is None else _check_str(value, max_len)


def _check_str_list(value: Any, max_len: int) -> list[str]:
    if not isinstance(value, list):
        raise ApiError(INPUT_ERROR)
    return [_check_str(item, max_len) for item in value]


def req_str_list(body: Mapping[str, Any], name: str, max_len: int = 64) -> list[str]:
    value = _present(body, name)
    if value is None:
        raise ApiError(MISSING)
    return _check_str_list(value, max_len)


def opt_str_list(body: Mapping[str, Any], name: str, max_len: int = 64) -> list[str] | None:
    value = body.get(name)
    return None if value is None else _check_str_list(value, max_len)


def _check_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(INPUT_ERROR)
    return value


def req_int(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None:
        raise ApiError(MISSING)
    return _check_int(value)


def opt_int(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    return None if value is None else _check_int(value)


def _check_number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError(INPUT_ERROR)
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - json never yields such a value
        raise ApiError(INPUT_ERROR) from exc


def req_number(body: Mapping[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if value is None:
        raise ApiError(MISSING)
    return _check_number(value)


def opt_number(body: Mapping[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    return None if value is None else _check_number(value)


def req_bool(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        raise ApiError(MISSING)
    if not isinstance(value, bool):
        raise ApiError(INPUT_ERROR)
    return value


def opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise ApiError(INPUT_ERROR)
    return value


def opt_object(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise ApiError(INPUT_ERROR)
    return value


# --- dates --------------------------------------------------------------------------------

_DAY = re.compile(r"\d{8}")
_SECOND = re.compile(r"\d{14}")


def req_day(body: Mapping[str, Any], name: str) -> date:
    """A required ``yyyyMMdd`` field."""
    value = req_str(body, name)
    if not _DAY.fullmatch(value):
        raise ApiError(INPUT_ERROR)
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError as exc:
        raise ApiError(INPUT_ERROR) from exc


def req_second_ms(body: Mapping[str, Any], name: str, tz: ZoneInfo) -> int:
    """A required ``yyyyMMddHHmmss`` field, read in the server's zone, as epoch ms."""
    value = req_str(body, name)
    if not _SECOND.fullmatch(value):
        raise ApiError(INPUT_ERROR)
    try:
        moment = datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError as exc:
        raise ApiError(INPUT_ERROR) from exc
    return to_ms(moment)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def day_start_ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of local midnight at the start of ``day`` (DST-correct)."""
    return to_ms(datetime(day.year, day.month, day.day, tzinfo=tz))
