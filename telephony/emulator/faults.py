"""Fault injection and build switches of the emulator, changeable while it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# A switch that misbehaves (docs/EMULATOR.md, "Misbehaving switch"): garbage_mode is one of
# these names, or "" for none. The request is handled first; the answer is then replaced or
# altered. garbage.py builds the bodies.
GARBAGE_MODES = (
    "empty",  # HTTP 200, empty body
    "html",  # HTTP 200, an HTML page
    "truncated",  # the answer cut in half
    "nested",  # JSON nested 100,000 levels deep
    "http_500",  # HTTP 500, a Tomcat error page
    "http_503",  # HTTP 503, a proxy's error page
    "unknown_retcode",  # a retCode no table lists
    "strings",  # every number but retCode as a JSON string
    "list_as_object",  # every list as {}
    "huge",  # money 1.0E30, other numbers 19 digits
    "nan",  # money as NaN, Infinity, -Infinity
    "negative",  # every number negative
    "far_future",  # every time in the year 10000
    "nulls",  # every field but retCode null
    "no_list",  # the answer's lists left out: {"retCode":0}
    "array",  # the answer wrapped in a JSON array
    "no_retcode",  # the answer without retCode
    "duplicates",  # every record of a list twice
    "gbk",  # the answer encoded in GB18030, still labelled UTF-8
    "hang",  # answered after hang_seconds, or never (0) until the emulator stops
)


@dataclass
class Faults:
    latency_ms: int = 0  # sleep before answering
    error_rate: float = 0.0  # HTTP 500 with a Tomcat HTML error page
    drop_after_pay_rate: float = 0.0  # Pay is applied, then the connection closes unanswered
    drop_rate: float = 0.0  # the connection closes unanswered before anything is done
    garbage_rate: float = 0.0  # HTTP 200 with a body that is not JSON
    cdr_max_days: int = 31  # GetCdr windows longer than this answer -10033
    report_max_days: int = 3660  # GetReportCustomerFee windows longer than this: -10033
    pay_history_memo: bool = True  # False: GetPayHistory without memo, like 2.1.7 builds
    strict_unknown: bool = False  # GetCustomer: any unknown account fails the whole call
    cdr_flow_no: bool = True  # False: CDRs without flowNo, like 2.1.7 builds
    seed: int = 0  # seed of the fault dice
    garbage_mode: str = ""  # one of GARBAGE_MODES: every matching answer misbehaves so
    garbage_interfaces: str = ""  # comma-separated interface names; "" = every interface
    absurd_account: str = ""  # this account's balance answers 1234567890123456789
    hang_seconds: float = 0.0  # garbage_mode "hang": answer after this long; 0 = never

    def __post_init__(self) -> None:
        self.update({f.name: getattr(self, f.name) for f in fields(self)})

    def garbles(self, interface: str) -> bool:
        """Whether garbage_mode and absurd_account apply to ``interface``."""
        names = [n.strip() for n in self.garbage_interfaces.split(",") if n.strip()]
        return not names or interface in names

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` all or nothing; ValueError names a bad field or value."""
        types = {f.name: f.type for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            kind = types.get(name)
            if kind is None:
                raise ValueError(f"unknown fault {name!r}")
            checked[name] = _coerce(name, kind, value)
        for name, value in checked.items():
            setattr(self, name, value)


def _coerce(name: str, kind: str, value: Any) -> Any:
    # Field types are strings here because of `from __future__ import annotations`.
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        top = 1.0 if name.endswith("_rate") else 86_400.0  # rates are probabilities
        if 0.0 <= value <= top:
            return float(value)
    if kind == "str" and isinstance(value, str):
        if name != "garbage_mode" or value in ("", *GARBAGE_MODES):
            return value
        raise ValueError(f"unknown garbage_mode {value!r}: use one of {', '.join(GARBAGE_MODES)}")
    raise ValueError(f"bad value for {name}: {value!r} (want {kind})")
