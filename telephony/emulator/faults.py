"""Fault injection and build switches of the emulator, changeable while it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


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
        if 0.0 <= value <= 1.0:
            return float(value)
    raise ValueError(f"bad value for {name}: {value!r} (want {kind})")
