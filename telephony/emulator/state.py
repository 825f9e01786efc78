"""What the emulated softswitch knows: customers, phones, money, CDRs, phone books, rates.

Records are kept in the wire format of the manual (InfoCustomer, InfoPhone, InfoCdr, ...)
with money as Decimal, so answers are mostly copies. Every read and write goes through
``state.lock`` (an RLock). Persistence is JSON with Decimals as strings.

:class:`SwitchState` is the plain container: it knows nothing of seeds or of the call
model. CDRs generated on demand come from a :class:`CdrSource` that the layers above plug
in (the scale seed's SyntheticCdrs); ``seed.EmulatorState`` adds the ways to build a state.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .records import MONEY_KEYS, PAY_CASH, PAY_PAYMENT
from .wire import day_start_ms

STATE_VERSION = 2  # 2 added fee rates, phone cards, registrations, current calls


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot save {type(value).__name__}")


def _money_hook(record: dict[str, Any]) -> dict[str, Any]:
    for key in MONEY_KEYS.intersection(record):
        if isinstance(record[key], str):
            record[key] = Decimal(record[key])
    return record


class CdrSource(Protocol):
    """CDRs that are generated when asked for rather than stored (see calls.SyntheticCdrs)."""

    def records(
        self, state: SwitchState, account: str, begin_ms: int, end_ms: int
    ) -> list[dict[str, Any]]: ...

    def fees_between(
        self, account: str, begin_ms: int, end_ms: int, now_ms: int, tz: ZoneInfo
    ) -> Decimal: ...

    def to_dict(self) -> dict[str, Any]: ...

    def copy(self) -> CdrSource: ...


class SwitchState:
    """The softswitch's data; ``seed.EmulatorState`` builds one (empty, demo, scale)."""

    _DATA = (
        "time_zone",
        "seed_spec",
        "customers",
        "phones",
        "pay_history",
        "cdrs",
        "phone_books",
        "consumptions",
        "synthetic",
        "next_flow_no",
        "fee_rate_groups",
        "fee_rates",
        "phone_cards",
        "registrations",
        "current_calls",
    )
    # Added by STATE_VERSION 2: a version 1 file loads with these empty.
    _SINCE_V2 = ("fee_rate_groups", "fee_rates", "phone_cards", "registrations", "current_calls")

    def __init__(self, time_zone: str = "UTC") -> None:
        self.lock = threading.RLock()
        self.time_zone = time_zone  # the VOS server's zone: day boundaries, request dates
        self.seed_spec = "empty"  # what POST /_emulator/reset rebuilds
        self.customers: dict[str, dict[str, Any]] = {}
        self.phones: dict[str, dict[str, Any]] = {}
        self.pay_history: list[dict[str, Any]] = []
        self.cdrs: list[dict[str, Any]] = []
        self.phone_books: dict[str, list[dict[str, Any]]] = {}
        self.consumptions: list[dict[str, Any]] = []
        self.synthetic: CdrSource | None = None
        self.next_flow_no = 1
        # Fee rate groups by name ({name, memo, fakeMinute}) and their InfoFeeRates.
        self.fee_rate_groups: dict[str, dict[str, Any]] = {}
        self.fee_rates: dict[str, list[dict[str, Any]]] = {}
        self.phone_cards: dict[str, dict[str, Any]] = {}  # pin -> InfoPhoneCard + password
        self.registrations: dict[str, dict[str, Any]] = {}  # e164 -> InfoPhoneOnline
        self.current_calls: list[dict[str, Any]] = []  # InfoCurrentCall seeds, see calls_now
        # Wall clock in seconds; tests may pin it (state.clock = lambda: 1.7e9).
        self.clock: Callable[[], float] = time.time
        self._reset_indexes()

    def _reset_indexes(self) -> None:
        self._cdr_count = 0
        self._cdrs_by_account: dict[str, list[dict[str, Any]]] = {}
        self._cdrs_by_agent: dict[str, list[dict[str, Any]]] = {}
        self._phone_key: tuple[int, int, int] | None = None
        self._phone_version = 0
        self._phone_index: dict[str, list[str]] = {}
        self._rate_indexes: dict[str, tuple[int, int, dict[str, dict[str, Any]]]] = {}

    def clone(self) -> SwitchState:
        """An independent copy (CDR values are immutable, so CDRs are copied shallowly)."""
        with self.lock:
            other = type(self)(self.time_zone)
            other.seed_spec = self.seed_spec
            other.customers = copy.deepcopy(self.customers)
            other.phones = copy.deepcopy(self.phones)
            other.pay_history = [dict(r) for r in self.pay_history]
            other.cdrs = [dict(r) for r in self.cdrs]
            other.phone_books = copy.deepcopy(self.phone_books)
            other.consumptions = [dict(r) for r in self.consumptions]
            if self.synthetic is not None:
                other.synthetic = self.synthetic.copy()
            other.next_flow_no = self.next_flow_no
            other.fee_rate_groups = copy.deepcopy(self.fee_rate_groups)
            other.fee_rates = {g: [dict(r) for r in rates] for g, rates in self.fee_rates.items()}
            other.phone_cards = copy.deepcopy(self.phone_cards)
            other.registrations = copy.deepcopy(self.registrations)
            other.current_calls = copy.deepcopy(self.current_calls)
            other.clock = self.clock
            return other

    def replace_with(self, other: SwitchState) -> None:
        """Take over ``other``'s data in place, so references to this state stay valid."""
        with self.lock:
            for name in self._DATA:
                setattr(self, name, getattr(other, name))
            self._reset_indexes()

    # --- time ---------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.time_zone)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def today(self) -> date:
        return datetime.fromtimestamp(self.clock(), self.tz).date()

    # --- customers and phones ------------------------------------------------------------

    def balance(self, account: str) -> Decimal:
        with self.lock:
            return self.customers[account]["money"]

    def phone_index(self) -> dict[str, list[str]]:
        """account -> its phones' e164s, rebuilt when the phones change."""
        with self.lock:
            key = (id(self.phones), len(self.phones), self._phone_version)
            if key != self._phone_key:
                index: dict[str, list[str]] = {}
                for e164, phone in self.phones.items():
                    index.setdefault(phone["account"], []).append(e164)
                self._phone_index, self._phone_key = index, key
            return self._phone_index

    def phones_of(self, account: str) -> list[str]:
        return self.phone_index().get(account, [])

    def phones_changed(self) -> None:
        """Call after changing a phone's account in place."""
        with self.lock:
            self._phone_version += 1

    def customers_of_agent(self, agent: str) -> list[str]:
        with self.lock:
            return [a for a, c in self.customers.items() if c["agentAccount"] == agent]

    # --- fee rates ----------------------------------------------------------------------

    def fee_rate_for(self, group: str, number: str) -> dict[str, Any] | None:
        """The group's rate with the longest ``feePrefix`` that begins ``number``.

        An index per group (prefix -> rate) is rebuilt when the group's table changes, so a
        lookup costs one dict probe per digit of ``number``, however large the table.
        """
        with self.lock:
            rates = self.fee_rates.get(group)
            if not rates:
                return None
            cached = self._rate_indexes.get(group)
            if cached is None or cached[:2] != (id(rates), len(rates)):
                cached = (id(rates), len(rates), {r["feePrefix"]: r for r in rates})
                self._rate_indexes[group] = cached
            index = cached[2]
            for end in range(len(number), 0, -1):
                rate = index.get(number[:end])
                if rate is not None:
                    return rate
            return None

    # --- money --------------------------------------------------------------------------

    def pay(
        self,
        account: str,
        money: Decimal,
        *,
        kind: int = PAY_PAYMENT,
        pay_type: int = PAY_CASH,
        memo: str = "",
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        """Add ``money`` (negative deducts) and write the pay history record."""
        with self.lock:
            customer = self.customers[account]
            customer["money"] += money
            record = {
                "account": account,
                "fee": money,
                "type": kind,
                "payType": pay_type,
                "customerMoney": customer["money"],
                "payTime": self.now_ms() if at_ms is None else at_ms,
                "memo": memo,
            }
            self.pay_history.append(record)
            return record

    def consume(
        self,
        account: str,
        money: Decimal,
        *,
        kind: int,
        name: str,
        at_ms: int | None = None,
    ) -> dict[str, Any]:
        """Deduct a non-call charge (phone rent, suite) and record it for GetConsumption."""
        with self.lock:
            customer = self.customers[account]
            customer["money"] -= money
            record = {
                "account": account,
                "money": money,
                "customerMoney": customer["money"],
                "type": kind,
                "consumptionName": name,
                "time": self.now_ms() if at_ms is None else at_ms,
            }
            self.consumptions.append(record)
            return record

    # --- CDRs ---------------------------------------------------------------------------

    def add_cdr(self, cdr: dict[str, Any], *, charge: bool = True) -> None:
        """Store a CDR (numbering its flowNo); ``charge`` deducts fee and agent fee."""
        with self.lock:
            if not cdr.get("flowNo"):
                cdr["flowNo"] = self.next_flow_no
                self.next_flow_no += 1
            self.cdrs.append(cdr)
            if not charge:
                return
            customer = self.customers.get(cdr["account"])
            if customer is not None:
                customer["money"] -= cdr["fee"]
            agent = self.customers.get(cdr["agentAccount"])
            if agent is not None:
                agent["money"] -= cdr["agentFee"]

    def _indexed_cdrs(self) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
        # Incremental: CDRs are only ever appended. Lists stay in start order.
        if len(self.cdrs) < self._cdr_count:
            self._reset_indexes()
        new = self.cdrs[self._cdr_count :]
        if new:
            for cdr in new:
                self._cdrs_by_account.setdefault(cdr["account"], []).append(cdr)
                if cdr["agentAccount"]:
                    self._cdrs_by_agent.setdefault(cdr["agentAccount"], []).append(cdr)
            for lists in (self._cdrs_by_account, self._cdrs_by_agent):
                for records in lists.values():
                    records.sort(key=lambda c: c["start"])
            self._cdr_count = len(self.cdrs)
        return self._cdrs_by_account, self._cdrs_by_agent

    def cdrs_between(self, account: str, begin_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """CDRs of ``account`` whose start is in [begin_ms, end_ms), in start order."""
        with self.lock:
            by_account, _ = self._indexed_cdrs()
            found = [c for c in by_account.get(account, ()) if begin_ms <= c["start"] < end_ms]
            if self.synthetic is not None and account in self.customers:
                found.extend(self.synthetic.records(self, account, begin_ms, end_ms))
            return found

    def today_consumption(self, account: str) -> Decimal:
        """Today's call fees of a customer, plus the agent fees of an agent's customers."""
        with self.lock:
            midnight = day_start_ms(self.today(), self.tz)
            by_account, by_agent = self._indexed_cdrs()
            total = _sum_since(by_account.get(account, ()), "fee", midnight)
            total += _sum_since(by_agent.get(account, ()), "agentFee", midnight)
            if self.synthetic is not None:
                now = self.now_ms()
                total += self.synthetic.fees_between(account, midnight, now + 1, now, self.tz)
            return total

    # --- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            data: dict[str, Any] = {"version": STATE_VERSION}
            for name in self._DATA:
                data[name] = getattr(self, name)
            data["synthetic"] = self.synthetic.to_dict() if self.synthetic else None
            return data

    def dumps(self) -> str:
        with self.lock:
            return json.dumps(
                self.to_dict(), ensure_ascii=False, default=_json_default, separators=(",", ":")
            )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: a temporary file in the same directory, then os.replace."""
        text = self.dumps()
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def loads(cls, text: str) -> SwitchState:
        data = json.loads(text, object_hook=_money_hook)
        if data.get("version") not in (1, STATE_VERSION):
            raise ValueError(f"unsupported emulator state version {data.get('version')!r}")
        state = cls(data["time_zone"])
        for name in cls._DATA:
            if name in cls._SINCE_V2 and name not in data:
                continue
            if name != "synthetic":
                setattr(state, name, data[name])
        if data.get("synthetic"):
            state.synthetic = cls.cdr_source_from_dict(data["synthetic"])
        return state

    @classmethod
    def cdr_source_from_dict(cls, data: dict[str, Any]) -> CdrSource:
        """The CdrSource saved as ``data``; the class that plugs sources in overrides this."""
        raise ValueError("this state has generated CDRs: load it with seed.EmulatorState")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SwitchState:
        return cls.loads(Path(path).read_text(encoding="utf-8"))


def _sum_since(records: Sequence[dict[str, Any]], key: str, since_ms: int) -> Decimal:
    total = Decimal("0")
    for record in reversed(records):  # in start order: walk back from the newest
        if record["start"] < since_ms:
            break
        total += record[key]
    return total


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[int, int]:
    """[start, end) of a local day in epoch ms."""
    return day_start_ms(day, tz), day_start_ms(day + timedelta(days=1), tz)
