"""The HTTP half of the client: one POST per call, its answer decoded, logged and judged."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import urllib3
from requests.adapters import HTTPAdapter

from .errors import (
    RET_INTERVAL_TOO_LONG,
    RET_NOT_FOUND,
    MalformedRecord,
    VosIntervalTooLong,
    VosMalformed,
    VosNotFound,
    VosRejected,
    VosUnavailable,
)
from .wire import INT32, MAX_TEXT, decode_object, encode_body, to_int

log = logging.getLogger("telephony.vos")

T = TypeVar("T")
# A call with less time than this left in its budget is not sent.
MIN_CALL_SECONDS = 0.25

REQUEST_HEADERS = {
    # What the manual asks for; the server reads the raw body, the charset keeps non-ASCII intact.
    "Content-Type": "text/html;charset=UTF-8",
    "Accept": "application/json, text/html;q=0.9, */*;q=0.1",
}


@dataclass(frozen=True, slots=True)
class _Sent:
    """A request's raw answer, before it is read (VosClient._send / _read)."""

    interface: str
    started: float
    status: int
    body: bytes


@dataclass
class CallStats:
    """Counts of calls made by one client (the sync jobs report them), and of the records
    the client skipped because they were malformed (``skipped``, per interface)."""

    calls: int = 0
    by_interface: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, interface: str) -> None:
        self.calls += 1
        self.by_interface[interface] = self.by_interface.get(interface, 0) + 1

    def skip(self, interface: str) -> None:
        self.skipped[interface] = self.skipped.get(interface, 0) + 1

    @property
    def skipped_records(self) -> int:
        return sum(self.skipped.values())


def _record_name(record: Any) -> str:
    """What a skipped record is called in the log: its account (or number), if it has one."""
    if not isinstance(record, dict):
        return f"<{type(record).__name__}>"
    for key in ("account", "e164", "ownerName"):
        value = record.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:64]
    return "<no account>"


class VosTransport:
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
        # A time.monotonic() instant every call of this client ends by (``with_deadline``).
        self.deadline: float | None = None

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        # Connection reuse; retries are ours (never urllib3's: a Pay must not be resent).
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def with_timeouts(self, connect: float, read: float, retries: int = 0):
        """The same server and connection pool with other timeouts (page reads: short)."""
        clone = type(self)(
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
        clone.deadline = self.deadline
        return clone

    def with_deadline(self, deadline: float, retries: int = 0):
        """The same client with one total budget: each call's timeouts are cut to what is
        left until ``deadline`` (time.monotonic()), and a call with too little time left is
        not sent at all (VosUnavailable). For requests that make several calls."""
        clone = self.with_timeouts(*self.timeout, retries=retries)
        clone.deadline = deadline if self.deadline is None else min(deadline, self.deadline)
        return clone

    def _timeout(self, interface: str) -> tuple[float, float]:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left < MIN_CALL_SECONDS:
            raise VosUnavailable(interface, "no time left in this request's budget")
        connect, read = self.timeout
        return (min(connect, left), min(read, left))

    # -- calls --

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
                pause = self.retry_backoff * (2 ** (attempt - 1))
                if attempt == attempts or not self._has_time(pause):
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _has_time(self, pause: float) -> bool:
        return self.deadline is None or self.deadline - time.monotonic() - pause >= MIN_CALL_SECONDS

    def _call_once(self, interface: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._read(self._send(interface, payload))

    def _send(self, interface: str, payload: dict[str, Any]) -> _Sent:
        """POST the request and take the raw answer; the transport half of a call."""
        url = f"{self.base_url}/{interface}"
        timeout = self._timeout(interface)
        started = time.monotonic()
        self.stats.count(interface)
        try:
            response = self.session.post(
                url, data=encode_body(payload), headers=REQUEST_HEADERS, timeout=timeout
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
        """The answer's JSON object with an integer retCode; anything else is VosMalformed."""
        data = decode_object(body, interface)
        if data.get("retCode") in (None, ""):
            raise VosMalformed(interface, "answer has no retCode")
        try:
            data["retCode"] = to_int(
                data["retCode"], field_name="retCode", interface=interface, bounds=INT32
            )
        except MalformedRecord as exc:
            raise VosMalformed(interface, exc.message) from exc
        return data

    @staticmethod
    def _rejection(interface: str, ret_code: int, data: dict[str, Any]) -> VosRejected:
        text = data.get("exception")
        message = text[:MAX_TEXT] if isinstance(text, str) else ""
        kind = {RET_NOT_FOUND: VosNotFound, RET_INTERVAL_TOO_LONG: VosIntervalTooLong}.get(
            ret_code, VosRejected
        )
        return kind(interface, ret_code, message)

    # -- records --

    def _decoded(
        self, records: Iterable[Any], decode: Callable[[Any, str], T], interface: str
    ) -> list[T]:
        """``decode(record, interface)`` of each record; a malformed one is skipped.

        Each skipped record is logged once (warning, with the interface and the record's
        account) and counted in ``stats.skipped``.
        """
        good: list[T] = []
        for record in records:
            try:
                good.append(decode(record, interface))
            except MalformedRecord as exc:
                self._skipped(interface, record, exc)
        return good

    def _skipped(self, interface: str, record: Any, exc: MalformedRecord) -> None:
        self.stats.skip(interface)
        log.warning(
            "VOS %s %s: skipped a malformed record of %s: %s",
            self.name,
            interface,
            _record_name(record),
            exc.message,
        )

    @staticmethod
    def _strict(decode: Callable[[Any, str], T], record: Any, interface: str) -> T:
        """``decode(record, interface)`` where one record is the whole answer: no skipping."""
        try:
            return decode(record, interface)
        except MalformedRecord as exc:
            raise VosMalformed(interface, exc.message) from exc


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
