"""The one door to a VOS3000 softswitch: its "Web Interface for Third Party".

Every call POSTs a JSON object (UTF-8) to ``<interface root>/<Interface>`` and reads a JSON
object back whose ``retCode`` is 0 on success. This module speaks that protocol and nothing
else: it never touches the database. Results are typed dataclasses with ``Decimal`` money and
aware UTC datetimes.

Errors are split by what the caller should do:

* :class:`VosUnavailable` - timeout, refused connection, HTTP 5xx, an empty or non-JSON body,
  or a body of the wrong shape (:class:`VosMalformed`). Temporary: reads may be retried.
* :class:`VosRejected` - ``retCode != 0``. Permanent for this input: show ``message``.
* :class:`PayOutcomeUnknown` - a Pay was sent and its answer lost. It may or may not have been
  applied; it must be reconciled against the pay history, never sent again blindly.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from hashlib import blake2b, sha1
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import urllib3
from requests.adapters import HTTPAdapter

log = logging.getLogger("telephony.vos")

T = TypeVar("T")
R = TypeVar("R")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FOUR_PLACES = Decimal("0.0001")
REQUEST_HEADERS = {
    # What the manual asks for; the server reads the raw body, the charset keeps non-ASCII intact.
    "Content-Type": "text/html;charset=UTF-8",
    "Accept": "application/json, text/html;q=0.9, */*;q=0.1",
}

# retCodes seen in the field (VOS3000-FACTS.md).
RET_NOT_FOUND = -10007
RET_INTERVAL_TOO_LONG = -10033
RET_INPUT_ERROR = -10124
RET_MISSING_PARAMETERS = -12103
# A Pay answered with one of these was refused on validation and certainly not applied. Any
# other non-zero code (e.g. an internal timeout) leaves the outcome unknown.
PAY_DEFINITE_REJECTIONS = frozenset({RET_NOT_FOUND, RET_INPUT_ERROR, RET_MISSING_PARAMETERS})


# --- Errors --------------------------------------------------------------------------------


class VosError(Exception):
    """Base of every error raised by the client."""

    def __init__(self, interface: str, message: str):
        super().__init__(f"{interface}: {message}")
        self.interface = interface
        self.message = message


class VosUnavailable(VosError):
    """VOS could not be reached or did not answer usefully. Temporary."""


class VosMalformed(VosUnavailable):
    """VOS answered, but not with what the interface promises (not JSON, wrong shape).

    Logged where it is raised, so every garbled answer leaves a trace whoever catches it.
    """

    def __init__(self, interface: str, message: str):
        super().__init__(interface, message)
        log.error("VOS malformed answer from %s: %s", interface, message)


class VosRejected(VosError):
    """VOS answered with a non-zero retCode."""

    def __init__(self, interface: str, ret_code: int, message: str):
        super().__init__(interface, f"retCode {ret_code}: {message}")
        self.ret_code = ret_code
        self.message = message or f"VOS error {ret_code}"


class VosNotFound(VosRejected):
    """-10007: the account, phone or entry does not exist."""


class VosIntervalTooLong(VosRejected):
    """-10033: the query window is longer than this installation allows."""


class PayOutcomeUnknown(VosError):
    """A Pay was sent but its answer was lost: it may or may not have been applied."""


# --- Wire helpers ----------------------------------------------------------------------------


def to_money(value: Any, *, field_name: str = "money", interface: str = "") -> Decimal:
    """A VOS number (``10.0``, ``1.0E7``, ``"3.5"``, ``5``) as Decimal with 4 places."""
    kind = type(value)
    if kind is Decimal or kind is int:  # what the JSON decoder gives: the common case
        return (value if kind is Decimal else Decimal(value)).quantize(
            FOUR_PLACES, rounding=ROUND_HALF_EVEN
        )
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool):
        raise VosMalformed(interface, f"{field_name} is not a number: {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return number.quantize(FOUR_PLACES, rounding=ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError) as exc:
        raise VosMalformed(interface, f"{field_name} is not a number: {value!r}") from exc


def to_int(value: Any, *, default: int = 0, field_name: str = "", interface: str = "") -> int:
    if type(value) is int:  # the common case, before the slower checks
        return value
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError) as exc:
        raise VosMalformed(interface, f"{field_name} is not an integer: {value!r}") from exc


def from_millis(value: Any, *, field_name: str = "", interface: str = "") -> datetime | None:
    """Epoch milliseconds (VOS's time format) as an aware UTC datetime; 0/absent is None."""
    millis = to_int(value, default=0, field_name=field_name, interface=interface)
    if millis <= 0:
        return None
    return EPOCH + timedelta(milliseconds=millis)


def to_millis(moment: datetime) -> int:
    return (moment.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def to_str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


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


def _list(data: dict[str, Any], key: str, interface: str) -> list[dict[str, Any]]:
    """A list of objects under ``key``; absent means empty (VOS drops empty lists)."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise VosMalformed(interface, f"{key} is not a list of objects")
    return value


def _required_str(record: dict[str, Any], key: str, interface: str) -> str:
    value = record.get(key)
    if value is None or value == "":
        raise VosMalformed(interface, f"a record has no {key}")
    return to_str(value)


def chunked(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def day_windows(first: date, last: date, days: int) -> Iterator[tuple[date, date]]:
    """Inclusive windows of at most ``days`` days covering first..last."""
    current = first
    while current <= last:
        end = min(last, current + timedelta(days=days - 1))
        yield current, end
        current = end + timedelta(days=1)


# --- Results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Customer:
    account: str
    name: str
    money: Decimal
    limit_money: Decimal
    today_consumption: Decimal
    lock_type: int
    agent_account: str
    type: int = 0
    fee_rate_group: str = ""
    phone_book_limit: int | None = None
    start_time: datetime | None = None
    valid_time: datetime | None = None
    memo: str = ""
    email: str = ""

    @property
    def locked(self) -> bool:
        return self.lock_type != 0

    @classmethod
    def from_wire(cls, record: dict[str, Any], interface: str = "GetCustomer") -> Customer:
        additional = record.get("infoCustomerAdditional")
        email = to_str(additional.get("email")) if isinstance(additional, dict) else ""
        limit = record.get("phoneBookLimit")
        return cls(
            account=_required_str(record, "account", interface),
            name=to_str(record.get("name")),
            money=to_money(record.get("money"), field_name="money", interface=interface),
            limit_money=to_money(record.get("limitMoney"), interface=interface),
            today_consumption=to_money(record.get("todayConsumption"), interface=interface),
            lock_type=to_int(record.get("lockType"), interface=interface),
            agent_account=to_str(record.get("agentAccount")),
            type=to_int(record.get("type"), interface=interface),
            fee_rate_group=to_str(record.get("feeRateGroup")),
            phone_book_limit=None if limit is None else to_int(limit, interface=interface),
            start_time=from_millis(record.get("startTime"), interface=interface),
            valid_time=from_millis(record.get("validTime"), interface=interface),
            memo=to_str(record.get("memo")),
            email=email,
        )


# The record keys Customer.from_wire reads, fingerprinted by CustomerAnswer.digest.
CUSTOMER_WIRE_KEYS = (
    "account",
    "name",
    "money",
    "limitMoney",
    "todayConsumption",
    "lockType",
    "agentAccount",
    "type",
    "feeRateGroup",
    "phoneBookLimit",
    "startTime",
    "validTime",
    "memo",
    "infoCustomerAdditional",
)


@dataclass(frozen=True, slots=True)
class CustomerAnswer:
    """One GetCustomer record as VOS sent it, decoded only when asked.

    ``digest`` fingerprints every value :meth:`Customer.from_wire` reads, so a reader that
    kept the digest of the record it last decoded can tell an unchanged record without
    decoding it again (the balance sync: most accounts do not move between two polls).
    """

    account: str
    record: dict[str, Any]

    @classmethod
    def from_wire(cls, record: dict[str, Any], interface: str = "GetCustomer") -> CustomerAnswer:
        return cls(account=_required_str(record, "account", interface), record=record)

    @property
    def digest(self) -> str:
        get = self.record.get
        text = "\x1f".join([repr(get(key)) for key in CUSTOMER_WIRE_KEYS])
        return blake2b(text.encode(), digest_size=16).hexdigest()

    def decode(self) -> Customer:
        return Customer.from_wire(self.record)


@dataclass(frozen=True, slots=True)
class CustomerBrief:
    """GetAllCustomers ``{"type":1}`` on newer builds."""

    account: str
    money: Decimal | None = None
    limit_money: Decimal | None = None
    agent_account: str | None = None


@dataclass(frozen=True, slots=True)
class PayResult:
    account: str
    balance_after: Decimal
    pay_money: Decimal
    valid_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class PayHistoryRecord:
    account: str
    fee: Decimal
    type: int
    pay_type: int
    balance_after: Decimal | None
    pay_time: datetime
    memo: str | None  # None: this server does not return memos (2.1.7)

    @property
    def natural_key(self) -> str:
        parts = (
            self.account,
            str(to_millis(self.pay_time)),
            str(self.fee),
            str(self.type),
            str(self.pay_type),
            str(self.balance_after),
        )
        return sha1("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CdrRecord:
    account: str
    agent_account: str
    caller_e164: str
    caller_access_e164: str
    callee_e164: str
    callee_access_e164: str
    caller_gateway: str
    callee_gateway: str
    caller_ip: str
    callee_ip: str
    start: datetime
    stop: datetime
    hold_time: int
    fee_time: int
    fee: Decimal
    fee_prefix: str
    call_level: int
    end_direction: int
    end_reason: int
    flow_no: int | None = None

    @property
    def natural_key(self) -> str:
        """Stable id of the call: flowNo where the server sends it, else a hash of its fields."""
        if self.flow_no is not None:
            return f"f{self.flow_no}"
        parts = (
            self.account,
            self.caller_e164,
            self.callee_e164,
            self.caller_access_e164,
            self.callee_access_e164,
            str(to_millis(self.start)),
            str(to_millis(self.stop)),
            self.caller_ip,
            self.callee_ip,
            str(self.hold_time),
            str(self.fee),
        )
        return sha1("\x1f".join(parts).encode()).hexdigest()

    @classmethod
    def from_wire(cls, record: dict[str, Any], interface: str = "GetCdr") -> CdrRecord:
        start = from_millis(record.get("start"), field_name="start", interface=interface)
        if start is None:
            raise VosMalformed(interface, "a CDR has no start time")
        stop = from_millis(record.get("stop"), field_name="stop", interface=interface) or start
        flow_no = record.get("flowNo")
        return cls(
            account=_required_str(record, "account", interface),
            agent_account=to_str(record.get("agentAccount")),
            caller_e164=to_str(record.get("callerE164")),
            caller_access_e164=to_str(record.get("callerAccessE164")),
            callee_e164=to_str(record.get("calleeE164")),
            callee_access_e164=to_str(record.get("calleeAccessE164")),
            caller_gateway=to_str(record.get("callerGateway")),
            callee_gateway=to_str(record.get("calleeGateway")),
            caller_ip=to_str(record.get("callerip")),
            callee_ip=to_str(record.get("calleeip")),
            start=start,
            stop=stop,
            hold_time=to_int(record.get("holdTime"), field_name="holdTime", interface=interface),
            fee_time=to_int(record.get("feeTime"), field_name="feeTime", interface=interface),
            fee=to_money(record.get("fee"), field_name="fee", interface=interface),
            fee_prefix=to_str(record.get("feePrefix")),
            call_level=to_int(record.get("callLevel"), interface=interface),
            end_direction=to_int(record.get("endDirection"), interface=interface),
            end_reason=to_int(record.get("endReason"), interface=interface),
            flow_no=None if flow_no in (None, "") else to_int(flow_no, interface=interface),
        )


@dataclass(frozen=True, slots=True)
class FeeReportRow:
    account: str
    account_name: str
    begin: datetime | None
    end: datetime | None
    cdr_count: int
    total_fee: Decimal
    total_time: int


@dataclass(frozen=True, slots=True)
class ConsumptionRecord:
    account: str
    money: Decimal
    balance_after: Decimal | None
    type: int
    name: str
    time: datetime

    @property
    def natural_key(self) -> str:
        parts = (
            self.account,
            str(to_millis(self.time)),
            str(self.money),
            str(self.type),
            self.name,
        )
        return sha1("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    account: str
    customer_password: str = ""
    display_number: str = ""
    lock_type: int = 0
    memo: str = ""


@dataclass(frozen=True, slots=True)
class PhoneBookEntry:
    e164: str
    name: str = ""
    short_e164s: tuple[str, ...] = ()
    department: str = ""
    device_type: int = 0
    address_type: int = 0
    type: int = 0
    memo: str = ""
    last_update_time: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "e164": self.e164,
            "shortE164s": list(self.short_e164s),
            "name": self.name,
            "department": self.department,
            "deviceType": self.device_type,
            "addressType": self.address_type,
            "type": self.type,
            "memo": self.memo,
        }


# --- The client ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sent:
    """A request's raw answer, before it is read (VosClient._send / _read)."""

    interface: str
    started: float
    status: int
    body: bytes


_DONE = object()


def fetched_ahead(fetch: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``fetch(item)`` for each item, in order, fetched ahead of the caller by a thread.

    The thread asks for the next item as soon as it has handed over the last one, so VOS
    works on it while the caller deals with the one before; it runs at most one result
    ahead and makes every call itself, one at a time, so the softswitch sees no more than
    one request at once. A failed fetch is raised where its result is due. ``fetch`` must
    not touch the database (the thread has no connection of its own).

    The thread does not wait for the caller to ask: a thread woken by the caller would then
    wait for the GIL until the caller's next pause, and every request would leave late.
    """
    handed: queue.Queue = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stopped.is_set():
                    return
                handed.put((fetch(item), None))
        except BaseException as exc:  # handed to the caller, who raises it
            handed.put((None, exc))
            return
        handed.put((_DONE, None))

    thread = threading.Thread(target=produce, name="vos-ahead", daemon=True)
    thread.start()
    try:
        while True:
            result, error = handed.get()
            if error is not None:
                raise error
            if result is _DONE:
                return
            yield result
    finally:
        stopped.set()
        while thread.is_alive():  # a thread blocked on the full queue can then finish
            with suppress(queue.Empty):
                handed.get(timeout=0.05)
        thread.join()


@dataclass
class CallStats:
    """Counts of calls made by one client (the sync jobs report them)."""

    calls: int = 0
    by_interface: dict[str, int] = field(default_factory=dict)

    def count(self, interface: str) -> None:
        self.calls += 1
        self.by_interface[interface] = self.by_interface.get(interface, 0) + 1


class VosClient:
    """One VOS3000 server's web interface, over a pooled HTTP session."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "vos",
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        time_zone: str = "UTC",
        read_retries: int = 2,
        retry_backoff: float = 0.25,
        cdr_window_days: int = 1,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = (connect_timeout, read_timeout)
        self.tz = ZoneInfo(time_zone)
        self.read_retries = read_retries
        self.retry_backoff = retry_backoff
        self.cdr_window_days = max(1, cdr_window_days)
        self.session = session or self._new_session()
        self.stats = CallStats()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # Connection reuse; retries are ours (never urllib3's: a Pay must not be resent).
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def with_timeouts(self, connect: float, read: float, retries: int = 0) -> VosClient:
        """The same server and connection pool with other timeouts (page reads: short)."""
        clone = VosClient(
            self.base_url,
            name=self.name,
            connect_timeout=connect,
            read_timeout=read,
            time_zone=self.tz.key,
            read_retries=retries,
            retry_backoff=self.retry_backoff,
            cdr_window_days=self.cdr_window_days,
            session=self.session,
        )
        clone.stats = self.stats
        return clone

    # -- transport --

    def call(
        self, interface: str, payload: dict[str, Any] | None = None, *, retry: bool = True
    ) -> dict[str, Any]:
        """POST one interface; the decoded answer when retCode is 0, else raise.

        Unavailable errors are retried with backoff when ``retry`` (reads and idempotent
        writes only); a rejection never is.
        """
        attempts = 1 + (self.read_retries if retry else 0)
        for attempt in range(1, attempts + 1):
            try:
                return self._call_once(interface, payload or {})
            except VosUnavailable:
                if attempt == attempts:
                    raise
                time.sleep(self.retry_backoff * (2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    def _call_once(self, interface: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._read(self._send(interface, payload))

    def _send(self, interface: str, payload: dict[str, Any]) -> _Sent:
        """POST the request and take the raw answer; the transport half of a call."""
        url = f"{self.base_url}/{interface}"
        started = time.monotonic()
        self.stats.count(interface)
        try:
            response = self.session.post(
                url, data=encode_body(payload), headers=REQUEST_HEADERS, timeout=self.timeout
            )
        except requests.RequestException as exc:
            self._log(interface, type(exc).__name__, started)
            raise VosUnavailable(interface, f"no answer ({type(exc).__name__})") from exc
        return _Sent(interface, started, response.status_code, response.content)

    def _read(self, sent: _Sent) -> dict[str, Any]:
        """The decoded answer of a `_send` when retCode is 0, else raise; logs the call."""
        interface = sent.interface
        ret_code: int | str = f"http {sent.status}"
        try:
            if sent.status >= 500:
                raise VosUnavailable(interface, f"HTTP {sent.status}")
            if sent.status != 200:
                raise VosMalformed(interface, f"HTTP {sent.status}")
            data = self._decode(interface, sent.body)
            ret_code = data["retCode"]
            if ret_code != 0:
                raise self._rejection(interface, ret_code, data)
            return data
        finally:
            self._log(interface, ret_code, sent.started)

    def _log(self, interface: str, ret_code: int | str, started: float) -> None:
        # Never the payload: it may hold phone and web passwords.
        log.info(
            "VOS %s %s retCode=%s %.0fms",
            self.name,
            interface,
            ret_code,
            (time.monotonic() - started) * 1000,
        )

    @staticmethod
    def _decode(interface: str, body: bytes) -> dict[str, Any]:
        if not body.strip():
            # VOS answers an unparseable request, and some internal errors, with an empty 200.
            raise VosMalformed(interface, "empty answer")
        try:
            data = json.loads(body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            raise VosMalformed(interface, f"answer is not JSON: {body[:60]!r}") from exc
        if not isinstance(data, dict) or "retCode" not in data:
            raise VosMalformed(interface, "answer has no retCode")
        data["retCode"] = to_int(data["retCode"], field_name="retCode", interface=interface)
        return data

    @staticmethod
    def _rejection(interface: str, ret_code: int, data: dict[str, Any]) -> VosRejected:
        message = to_str(data.get("exception"))
        kind = {RET_NOT_FOUND: VosNotFound, RET_INTERVAL_TOO_LONG: VosIntervalTooLong}.get(
            ret_code, VosRejected
        )
        return kind(interface, ret_code, message)

    # -- customers --

    def get_customers(
        self, accounts: Iterable[str] = (), *, e164s: Iterable[str] = (), batch_size: int = 200
    ) -> list[Customer]:
        """GetCustomer for any number of accounts (and/or e164s), ``batch_size`` per call.

        Unknown accounts are simply absent from the result, whether the server drops them
        (retCode 0) or refuses the whole batch with -10007: then the batch is split in halves
        until the known accounts are found.
        """
        return [
            answer.decode()
            for answer in self.get_customer_answers(accounts, e164s=e164s, batch_size=batch_size)
        ]

    def get_customer_answers(
        self, accounts: Iterable[str] = (), *, e164s: Iterable[str] = (), batch_size: int = 200
    ) -> list[CustomerAnswer]:
        """`get_customers`, with each record left undecoded until its caller asks."""
        found: list[CustomerAnswer] = []
        for key, values in (
            ("accounts", list(dict.fromkeys(accounts))),
            ("e164s", list(dict.fromkeys(e164s))),
        ):
            for batch in chunked(values, max(1, batch_size)):
                found.extend(self._get_customer_batch(key, batch))
        return found

    def get_customer_batches(
        self, batches: Iterable[list[str]]
    ) -> Iterator[tuple[datetime, list[CustomerAnswer]]]:
        """GetCustomer for each batch of accounts, in order: (time asked, answers) each.

        A thread sends each request as soon as the answer before it arrived, while the
        caller still works on that one (`fetched_ahead`); the answers are decoded here, in
        the caller's thread, so no request waits for the decoding of the one before. A batch
        whose answer was anything but clean (no answer, a fault, -10007) is asked again the
        ordinary way, with retries and splitting: only then can two requests be under way.
        """

        def send(batch: list[str]) -> tuple[list[str], datetime, _Sent | None]:
            asked_at = datetime.now(UTC)  # before the request: the answer is at least this new
            try:
                return batch, asked_at, self._send("GetCustomer", {"accounts": batch})
            except VosUnavailable:
                return batch, asked_at, None

        for batch, asked_at, sent in fetched_ahead(send, batches):
            try:
                if sent is None:
                    raise VosUnavailable("GetCustomer", "no answer")
                answers = self._customer_answers(self._read(sent))
            except (VosUnavailable, VosNotFound):
                asked_at = datetime.now(UTC)
                answers = self.get_customer_answers(batch, batch_size=len(batch))
            yield asked_at, answers

    @staticmethod
    def _customer_answers(data: dict[str, Any]) -> list[CustomerAnswer]:
        return [CustomerAnswer.from_wire(r) for r in _list(data, "infoCustomers", "GetCustomer")]

    def _get_customer_batch(self, key: str, batch: list[str]) -> list[CustomerAnswer]:
        try:
            data = self.call("GetCustomer", {key: batch})
        except VosNotFound:
            if len(batch) == 1:
                return []
            middle = len(batch) // 2
            return self._get_customer_batch(key, batch[:middle]) + self._get_customer_batch(
                key, batch[middle:]
            )
        return self._customer_answers(data)

    def get_customer(self, account: str) -> Customer:
        for customer in self.get_customers([account]):
            if customer.account == account:
                return customer
        raise VosNotFound("GetCustomer", RET_NOT_FOUND, "Not found, operation failed.")

    def get_all_customers(self) -> list[str]:
        data = self.call("GetAllCustomers", {})
        accounts = data.get("accounts") or []
        if not isinstance(accounts, list):
            raise VosMalformed("GetAllCustomers", "accounts is not a list")
        return [to_str(a) for a in accounts if a not in (None, "")]

    def get_all_customer_briefs(self) -> list[CustomerBrief] | None:
        """Newer builds' ``{"type":1}`` form; None when the server does not support it."""
        try:
            data = self.call("GetAllCustomers", {"type": 1})
        except VosRejected:
            return None
        if "infoCustomerBriefs" not in data:
            return None
        briefs = []
        for record in _list(data, "infoCustomerBriefs", "GetAllCustomers"):
            agent = record.get("agentAccount")
            briefs.append(
                CustomerBrief(
                    account=_required_str(record, "account", "GetAllCustomers"),
                    money=None
                    if record.get("money") is None
                    else to_money(record.get("money"), interface="GetAllCustomers"),
                    limit_money=None
                    if record.get("limitMoney") is None
                    else to_money(record.get("limitMoney"), interface="GetAllCustomers"),
                    agent_account=None if agent is None else to_str(agent),
                )
            )
        return briefs

    def create_customer(
        self,
        *,
        account: str,
        name: str = "",
        agent_account: str = "",
        limit_money: Decimal | None = None,
        fee_rate_group: str | None = None,
        phone_book_limit: int | None = None,
        lock_type: int = 0,
        memo: str = "",
        email: str = "",
    ) -> None:
        payload: dict[str, Any] = {
            "account": account,
            "name": name or account,
            "lockType": lock_type,
        }
        if agent_account:
            payload["agentAccount"] = agent_account
        if limit_money is not None:
            payload["limitMoney"] = limit_money
        if fee_rate_group:
            payload["feeRateGroup"] = fee_rate_group
        if phone_book_limit is not None:
            payload["phoneBookLimit"] = phone_book_limit
        if memo:
            payload["memo"] = memo
        if email:
            payload["infoCustomerAdditional"] = {"email": email}
        self.call("CreateCustomer", payload, retry=False)

    def modify_customer(
        self,
        *,
        account: str,
        lock_type: int | None = None,
        limit_money: Decimal | None = None,
        name: str | None = None,
        memo: str | None = None,
    ) -> None:
        """ModifyCustomer with only the given fields (it has no money field by design)."""
        payload: dict[str, Any] = {"account": account}
        if lock_type is not None:
            payload["lockType"] = lock_type
        if limit_money is not None:
            payload["limitMoney"] = limit_money
        if name is not None:
            payload["name"] = name
        if memo is not None:
            payload["memo"] = memo
        # Setting fields to given values is idempotent: safe to retry.
        self.call("ModifyCustomer", payload)

    # -- money --

    def pay(
        self, *, account: str, amount: Decimal, memo: str = "", owner_type: int = 2
    ) -> PayResult:
        """Pay (negative ``amount`` deducts). Never retried.

        Raises VosUnavailable only when the request certainly never reached VOS, VosRejected
        when VOS refused it, and PayOutcomeUnknown whenever it may have been applied.
        """
        if not isinstance(amount, Decimal):
            raise TypeError("amount must be a Decimal")
        payload = {"ownerName": account, "ownerType": owner_type, "money": amount, "memo": memo}
        try:
            data = self._call_once("Pay", payload)
        except VosRejected as exc:
            if exc.ret_code in PAY_DEFINITE_REJECTIONS:
                raise
            raise PayOutcomeUnknown("Pay", f"answered retCode {exc.ret_code}") from exc
        except VosUnavailable as exc:
            if _never_sent(exc):
                raise
            raise PayOutcomeUnknown("Pay", exc.message) from exc
        info = data.get("infoPay")
        if not isinstance(info, dict):
            raise PayOutcomeUnknown("Pay", "answer has no infoPay")
        try:
            return PayResult(
                account=to_str(info.get("account")) or account,
                balance_after=to_money(info.get("money"), interface="Pay"),
                pay_money=to_money(info.get("payMoney", amount), interface="Pay"),
                valid_time=from_millis(info.get("validTime"), interface="Pay"),
            )
        except VosMalformed as exc:
            raise PayOutcomeUnknown("Pay", exc.message) from exc

    def _period_query(
        self, begin: datetime, end: datetime, account: str, agent_account: str
    ) -> dict[str, Any]:
        """The body of the yyyyMMddHHmmss interfaces: by account or by agent, one is needed."""
        if not (account or agent_account):
            raise ValueError("account or agent_account is required")
        payload: dict[str, Any] = {
            "beginTime": format_time(begin, self.tz),
            "endTime": format_time(end, self.tz),
        }
        if account:
            payload["account"] = account
        if agent_account:
            payload["agentAccount"] = agent_account
        return payload

    def get_pay_history(
        self, *, begin: datetime, end: datetime, account: str = "", agent_account: str = ""
    ) -> list[PayHistoryRecord]:
        data = self.call("GetPayHistory", self._period_query(begin, end, account, agent_account))
        records = []
        for r in _list(data, "infoPayHistorys", "GetPayHistory"):
            pay_time = from_millis(
                r.get("payTime"), field_name="payTime", interface="GetPayHistory"
            )
            if pay_time is None:
                raise VosMalformed("GetPayHistory", "a record has no payTime")
            balance = r.get("customerMoney")
            records.append(
                PayHistoryRecord(
                    account=_required_str(r, "account", "GetPayHistory"),
                    fee=to_money(r.get("fee"), field_name="fee", interface="GetPayHistory"),
                    type=to_int(r.get("type"), interface="GetPayHistory"),
                    pay_type=to_int(r.get("payType"), interface="GetPayHistory"),
                    balance_after=None
                    if balance is None
                    else to_money(balance, interface="GetPayHistory"),
                    pay_time=pay_time,
                    memo=None if "memo" not in r else to_str(r.get("memo")),
                )
            )
        return records

    def get_consumption(
        self, *, begin: datetime, end: datetime, account: str = "", agent_account: str = ""
    ) -> list[ConsumptionRecord]:
        data = self.call("GetConsumption", self._period_query(begin, end, account, agent_account))
        records = []
        for r in _list(data, "infoConsumptions", "GetConsumption"):
            moment = from_millis(r.get("time"), field_name="time", interface="GetConsumption")
            if moment is None:
                raise VosMalformed("GetConsumption", "a record has no time")
            balance = r.get("customerMoney")
            records.append(
                ConsumptionRecord(
                    account=_required_str(r, "account", "GetConsumption"),
                    money=to_money(r.get("money"), interface="GetConsumption"),
                    balance_after=None
                    if balance is None
                    else to_money(balance, interface="GetConsumption"),
                    type=to_int(r.get("type"), interface="GetConsumption"),
                    name=to_str(r.get("consumptionName")),
                    time=moment,
                )
            )
        return records

    def get_fee_report(
        self, *, accounts: Sequence[str], begin: date, end: date, period: int = 1
    ) -> list[FeeReportRow]:
        data = self.call(
            "GetReportCustomerFee",
            {
                "accounts": list(accounts),
                "period": period,
                "beginTime": format_day(begin),
                "endTime": format_day(end),
            },
        )
        rows = []
        for r in _list(data, "infoReportCustomerFees", "GetReportCustomerFee"):
            rows.append(
                FeeReportRow(
                    account=_required_str(r, "account", "GetReportCustomerFee"),
                    account_name=to_str(r.get("accountName")),
                    begin=from_millis(r.get("beginTime"), interface="GetReportCustomerFee"),
                    end=from_millis(r.get("endTime"), interface="GetReportCustomerFee"),
                    cdr_count=to_int(r.get("cdrCount"), interface="GetReportCustomerFee"),
                    total_fee=to_money(r.get("totalFee"), interface="GetReportCustomerFee"),
                    total_time=to_int(r.get("totalTime"), interface="GetReportCustomerFee"),
                )
            )
        return rows

    # -- call records --

    def get_cdrs(
        self,
        *,
        accounts: Sequence[str],
        begin: date,
        end: date,
        caller_e164: str = "",
        callee_e164: str = "",
    ) -> list[CdrRecord]:
        """Every CDR of ``accounts`` on the server days begin..end (inclusive).

        Asks in windows of ``cdr_window_days`` days; a -10033 answer halves the window (and
        the client remembers the smaller size) until one day is refused too.
        """
        records: list[CdrRecord] = []
        pending = list(day_windows(begin, end, self.cdr_window_days))
        while pending:
            first, last = pending.pop(0)
            payload: dict[str, Any] = {
                "accounts": list(accounts),
                "beginTime": format_day(first),
                "endTime": format_day(last),
            }
            if caller_e164:
                payload["callerE164"] = caller_e164
            if callee_e164:
                payload["calleeE164"] = callee_e164
            try:
                data = self.call("GetCdr", payload)
            except VosIntervalTooLong:
                span = (last - first).days + 1
                if span == 1:
                    raise
                self.cdr_window_days = max(1, span // 2)
                log.warning(
                    "VOS %s refuses %d-day CDR windows; asking %d days at a time",
                    self.name,
                    span,
                    self.cdr_window_days,
                )
                # Windows are consecutive: re-cut everything still to ask at the new size.
                pending = list(day_windows(first, end, self.cdr_window_days))
                continue
            records.extend(CdrRecord.from_wire(r) for r in _list(data, "infoCdrs", "GetCdr"))
        return records

    # -- phones --

    def get_phones(
        self, *, e164s: Iterable[str] = (), accounts: Iterable[str] = ()
    ) -> list[PhoneInfo]:
        payload: dict[str, Any] = {}
        if e164s:
            payload["e164s"] = list(e164s)
        if accounts:
            payload["accounts"] = list(accounts)
        if not payload:
            raise ValueError("e164s or accounts is required")
        try:
            data = self.call("GetPhone", payload)
        except VosNotFound:
            return []
        return [
            PhoneInfo(
                e164=_required_str(r, "e164", "GetPhone"),
                account=to_str(r.get("account")),
                customer_password=to_str(r.get("customerPassword")),
                display_number=to_str(r.get("displayNumber")),
                lock_type=to_int(r.get("lockType"), interface="GetPhone"),
                memo=to_str(r.get("memo")),
            )
            for r in _list(data, "infoPhones", "GetPhone")
        ]

    def create_phone(
        self,
        *,
        e164: str,
        account: str,
        password: str = "",
        customer_password: str = "",
        auto_create_account: bool = False,
    ) -> None:
        payload: dict[str, Any] = {
            "autoCreateAccount": auto_create_account,
            "e164": e164,
            "account": account,
        }
        if password:
            payload["password"] = password
        if customer_password:
            payload["customerPassword"] = customer_password
        self.call("CreatePhone", payload, retry=False)

    # -- phone book --

    def get_phone_book(self, *, account: str) -> list[PhoneBookEntry]:
        data = self.call("GetCustomerPhoneBook", {"account": account})
        entries = []
        for r in _list(data, "infoCustomerPhoneBooks", "GetCustomerPhoneBook"):
            shorts = r.get("shortE164s") or []
            if not isinstance(shorts, list):
                shorts = [shorts]
            entries.append(
                PhoneBookEntry(
                    e164=_required_str(r, "e164", "GetCustomerPhoneBook"),
                    name=to_str(r.get("name")),
                    short_e164s=tuple(to_str(s) for s in shorts if s not in (None, "")),
                    department=to_str(r.get("department")),
                    device_type=to_int(r.get("deviceType")),
                    address_type=to_int(r.get("addressType")),
                    type=to_int(r.get("type")),
                    memo=to_str(r.get("memo")),
                    last_update_time=from_millis(r.get("lastUpdateTime")),
                )
            )
        return entries

    def create_phone_book_entry(
        self, *, account: str, entry: PhoneBookEntry, overwrite: bool = False
    ) -> None:
        payload = {"account": account, "overwrite": overwrite, **entry.to_wire()}
        self.call("CreateCustomerPhoneBook", payload, retry=False)

    def modify_phone_book_entry(self, *, account: str, e164: str, entry: PhoneBookEntry) -> None:
        """Update entry ``e164``; ``entry.e164`` different from it renames the number."""
        payload = {"account": account, **entry.to_wire(), "e164": e164}
        if entry.e164 != e164:
            payload["newE164"] = entry.e164
        self.call("ModifyCustomerPhoneBook", payload, retry=False)

    def delete_phone_book_entries(self, *, account: str, e164s: Sequence[str]) -> None:
        self.call(
            "DeleteCustomerPhoneBook", {"account": account, "e164s": list(e164s)}, retry=False
        )


def _never_sent(exc: VosUnavailable) -> bool:
    """True when the request certainly did not reach the server (the connection failed)."""
    not_connected = (
        requests.ConnectTimeout,
        urllib3.exceptions.NewConnectionError,
        urllib3.exceptions.ConnectTimeoutError,
    )
    cause: BaseException | None = exc.__cause__
    while cause is not None:
        if isinstance(cause, not_connected):
            return True
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        if isinstance(reason, not_connected):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


# --- One client per server per process ------------------------------------------------------

_clients: dict[tuple, VosClient] = {}
_clients_lock = threading.Lock()


def client_for(server) -> VosClient:
    """The pooled client of a VosServer row; rebuilt when the row's settings change."""
    key = (server.pk, server.url, server.connect_timeout, server.read_timeout, server.time_zone)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            for stale in [k for k in _clients if k[0] == server.pk]:
                _clients.pop(stale).session.close()
            client = VosClient(
                server.url,
                name=server.name,
                connect_timeout=server.connect_timeout,
                read_timeout=server.read_timeout,
                time_zone=server.time_zone,
            )
            _clients[key] = client
        return client


def vos_probe(server) -> tuple[bool, str]:
    """Is the server's interface reachable and speaking VOS? (admin's "Test connection").

    Asks GetCustomer for an account that cannot exist: any well-formed answer, -10007
    included, proves the address, the allow-list and the protocol.
    """
    from django.utils.translation import gettext as _

    client = client_for(server).with_timeouts(server.connect_timeout, server.connect_timeout + 2)
    started = time.monotonic()
    try:
        client.call("GetCustomer", {"accounts": ["__portal_probe__"]}, retry=False)
    except VosRejected:
        pass
    except VosUnavailable as exc:
        return False, _("not reachable: %(reason)s") % {"reason": exc.message}
    elapsed = (time.monotonic() - started) * 1000
    return True, _("answers in %(ms).0f ms") % {"ms": elapsed}


def page_client_for(server) -> VosClient:
    """For reads inside a page request: short timeouts, no retries (pages never wait)."""
    from django.conf import settings

    budget = settings.VOS_PAGE_TIMEOUT
    return client_for(server).with_timeouts(min(budget, server.connect_timeout), budget)
