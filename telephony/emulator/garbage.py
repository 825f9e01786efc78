"""The misbehaving switch: answers built from a real answer for each Faults.garbage_mode.

Every body is documented in docs/EMULATOR.md ("Misbehaving switch"). The request has been
handled (a write is applied) before its answer is replaced or altered here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from .faults import Faults
from .wire import JSON_NULL, dumps, java_double

NESTING = 100_000
ABSURD_BALANCE = 1_234_567_890_123_456_789  # 19 digits
HUGE_MONEY = Decimal("1E30")
HUGE_INTEGER = 9_999_999_999_999_999_999  # 19 digits, more than a Java long holds
FAR_FUTURE_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z: past what most date types hold
UNKNOWN_RETCODE = {"retCode": -19999, "exception": "F_ERROR_SYSTEM_BUSY"}
TIME_KEYS = frozenset(
    {
        "startTime",
        "validTime",
        "payTime",
        "time",
        "start",
        "stop",
        "lastUpdateTime",
        "registerTime",
        "updateTime",
        "connectedTime",
        "beginTime",
        "endTime",
        "expireTime",
        "usedTime",
    }
)
_BALANCE_KEYS = ("money", "accountMoney", "customerMoney")
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>VOS3000</title></head><body>"
    b"<h1>VOS3000 Web Manager</h1><form action='login.jsp'>User <input name='u'></form>"
    b"</body></html>"
)
TOMCAT_500 = (
    b"<html><head><title>Apache Tomcat/7.0.23 - Error report</title></head><body>"
    b"<h1>HTTP Status 500 - </h1><p><b>type</b> Exception report</p>"
    b"<p><b>description</b> <u>The server encountered an internal error () that prevented it "
    b"from fulfilling this request.</u></p><h3>Apache Tomcat/7.0.23</h3></body></html>"
)
PROXY_503 = b"<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>"


class Garbage(NamedTuple):
    status: int
    body: bytes
    hang: bool = False  # hold the answer for Faults.hang_seconds (0: until the stop)


Leaf = Callable[[str, Any], Any]


def _walk(value: Any, leaf: Leaf, key: str = "") -> Any:
    """``value`` with every scalar replaced by ``leaf(key, scalar)``; retCode is kept."""
    if isinstance(value, dict):
        return {k: v if k == "retCode" else _walk(v, leaf, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(item, leaf, key) for item in value]
    return leaf(key, value)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, Decimal, float)


def _as_string(key: str, value: Any) -> Any:
    if _is_int(value):
        return str(value)
    return java_double(value) if type(value) in (Decimal, float) else value


def _huge(key: str, value: Any) -> Any:
    if _is_int(value):
        return HUGE_INTEGER
    return HUGE_MONEY if isinstance(value, Decimal) else value


def _negative(key: str, value: Any) -> Any:
    if not _is_number(value):
        return value
    return -abs(value) if value else type(value)(-1)


def _far_future(key: str, value: Any) -> Any:
    return FAR_FUTURE_MS if key in TIME_KEYS and _is_int(value) else value


def _null(key: str, value: Any) -> Any:
    return JSON_NULL


def _nan_leaf() -> Leaf:
    cycle = itertools.cycle((Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")))
    return lambda key, value: next(cycle) if isinstance(value, Decimal) else value


def _lists_as_objects(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists_as_objects(v) for k, v in value.items()}
    return {} if isinstance(value, list) else value


def _duplicates(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: [r for r in v for _ in (0, 1)] if isinstance(v, list) else v
            for k, v in answer.items()}  # fmt: skip


def absurd(answer: Any, account: str) -> Any:
    """``answer`` with the balance of every record of ``account`` at ABSURD_BALANCE."""
    if isinstance(answer, list):
        return [absurd(item, account) for item in answer]
    if not isinstance(answer, dict):
        return answer
    changed = {k: absurd(v, account) for k, v in answer.items()}
    if changed.get("account") == account:
        for key in _BALANCE_KEYS:
            if key in changed:
                changed[key] = ABSURD_BALANCE
    return changed


_TRANSFORMS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "strings": lambda a: _walk(a, _as_string),
    "list_as_object": _lists_as_objects,
    "huge": lambda a: _walk(a, _huge),
    "nan": lambda a: _walk(a, _nan_leaf()),
    "negative": lambda a: _walk(a, _negative),
    "far_future": lambda a: _walk(a, _far_future),
    "nulls": lambda a: _walk(a, _null),
    "no_list": lambda a: {k: v for k, v in a.items() if not isinstance(v, list)},
    "array": lambda a: [a],
    "no_retcode": lambda a: {k: v for k, v in a.items() if k != "retCode"},
    "duplicates": _duplicates,
    "unknown_retcode": lambda a: UNKNOWN_RETCODE,
}
_FIXED: dict[str, Garbage] = {
    "empty": Garbage(200, b""),
    "html": Garbage(200, HTML_PAGE),
    "nested": Garbage(200, b'{"retCode":0,"data":' + b"[" * NESTING + b"]" * NESTING + b"}"),
    "http_500": Garbage(500, TOMCAT_500),
    "http_503": Garbage(503, PROXY_503),
}


def misbehave(faults: Faults, interface: str, answer: dict[str, Any]) -> Garbage | None:
    """What a misbehaving switch sends instead of ``answer``; None: the answer as it is."""
    if not (faults.garbage_mode or faults.absurd_account) or not faults.garbles(interface):
        return None
    if faults.absurd_account:
        answer = absurd(answer, faults.absurd_account)
    mode = faults.garbage_mode
    fixed = _FIXED.get(mode)
    if fixed is not None:
        return fixed
    text = dumps(_TRANSFORMS[mode](answer) if mode in _TRANSFORMS else answer)
    if mode == "truncated":
        return Garbage(200, text.encode()[: len(text.encode()) // 2])
    if mode == "gbk":
        return Garbage(200, text.encode("gb18030"))
    return Garbage(200, text.encode(), hang=mode == "hang")
