"""VosClient: one method per VOS interface the portal uses, each answer typed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .ahead import fetched_ahead
from .cards import AvailableTime, FeeRate, FeeRateGroup, PhoneCard
from .client_phones import PhoneCalls
from .errors import (
    CARD_DEFINITE_REJECTIONS,
    PAY_DEFINITE_REJECTIONS,
    RET_NOT_FOUND,
    PayOutcomeUnknown,
    VosMalformed,
    VosNotFound,
    VosRejected,
    VosUnavailable,
)
from .records import (
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
)
from .transport import VosTransport, _never_sent, _Sent
from .windows import chunked, halved_on_too_long
from .wire import _list, format_day, format_time, to_millis, to_str

log = logging.getLogger("telephony.vos")


def _account_name(value: Any, interface: str) -> str:
    """One item of GetAllCustomers' ``accounts``: a string (or number)."""
    return to_str(value, field_name="accounts", interface=interface)


class VosClient(PhoneCalls, VosTransport):
    """One VOS3000 server's web interface, over a pooled HTTP session.

    Methods returning a list skip malformed records (see :mod:`telephony.vos`).
    """

    # -- customers --

    def get_customers(
        self, accounts: Iterable[str] = (), *, e164s: Iterable[str] = (), batch_size: int = 200
    ) -> list[Customer]:
        """GetCustomer for any number of accounts (and/or e164s), ``batch_size`` per call.

        Unknown accounts are simply absent from the result, whether the server drops them
        (retCode 0) or refuses the whole batch with -10007: then the batch is split in halves
        until the known accounts are found. Malformed records are skipped.
        """
        answers = self.get_customer_answers(accounts, e164s=e164s, batch_size=batch_size)
        return self._decoded(
            (answer.record for answer in answers), Customer.from_wire, "GetCustomer"
        )

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

    def _customer_answers(self, data: dict[str, Any]) -> list[CustomerAnswer]:
        records = _list(data, "infoCustomers", "GetCustomer")
        return self._decoded(records, CustomerAnswer.from_wire, "GetCustomer")

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
        """One account; a garbled record is VosMalformed (never "not found")."""
        data = self.call("GetCustomer", {"accounts": [account]})
        for record in _list(data, "infoCustomers", "GetCustomer"):
            customer = self._strict(Customer.from_wire, record, "GetCustomer")
            if customer.account == account:
                return customer
        raise VosNotFound("GetCustomer", RET_NOT_FOUND, "Not found, operation failed.")

    def get_all_customers(self) -> list[str]:
        data = self.call("GetAllCustomers", {})
        if "accounts" not in data:
            raise VosMalformed("GetAllCustomers", "answer has no accounts")
        accounts = _list(data, "accounts", "GetAllCustomers")
        names = self._decoded(accounts, _account_name, "GetAllCustomers")
        return [name for name in names if name]

    def get_all_customer_briefs(self) -> list[CustomerBrief] | None:
        """Newer builds' ``{"type":1}`` form; None when the server does not support it."""
        try:
            data = self.call("GetAllCustomers", {"type": 1})
        except VosRejected:
            return None
        if "infoCustomerBriefs" not in data:
            return None
        records = _list(data, "infoCustomerBriefs", "GetAllCustomers")
        return self._decoded(records, CustomerBrief.from_wire, "GetAllCustomers")

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
        valid_time: datetime | None = None,
    ) -> None:
        """CreateCustomer (manual 2.1). Without ``valid_time`` the switch applies its own
        default validity (a system parameter)."""
        payload: dict[str, Any] = {"account": account, "name": name or account}
        payload["lockType"] = lock_type
        optional = {
            "agentAccount": agent_account or None,
            "limitMoney": limit_money,
            "feeRateGroup": fee_rate_group or None,
            "phoneBookLimit": phone_book_limit,
            "memo": memo or None,
            "infoCustomerAdditional": {"email": email} if email else None,
            "validTime": to_millis(valid_time) if valid_time is not None else None,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
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
        given = {"lockType": lock_type, "limitMoney": limit_money, "name": name, "memo": memo}
        payload.update({key: value for key, value in given.items() if value is not None})
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
            return PayResult.from_wire(info, "Pay", account=account, amount=amount)
        except VosMalformed as exc:
            raise PayOutcomeUnknown("Pay", exc.message) from exc

    def pay_by_phone_card(
        self, *, account: str, pin: str, password: str, memo: str = ""
    ) -> PayResult:
        """PayByPhoneCard onto an account (ownerType 2). Never retried, like :meth:`pay`.

        The password is always sent: without it the switch only checks the pin.
        """
        payload = {
            "ownerName": account,
            "ownerType": 2,
            "pin": pin,
            "password": password,
            "memo": memo,
        }
        interface = "PayByPhoneCard"
        try:
            data = self._call_once(interface, payload)
        except VosRejected as exc:
            if exc.ret_code in CARD_DEFINITE_REJECTIONS:
                raise
            raise PayOutcomeUnknown(interface, f"answered retCode {exc.ret_code}") from exc
        except VosUnavailable as exc:
            if _never_sent(exc):
                raise
            raise PayOutcomeUnknown(interface, exc.message) from exc
        info = data.get("infoPay")
        if not isinstance(info, dict) or "payMoney" not in info:
            raise PayOutcomeUnknown(interface, "answer has no infoPay.payMoney")
        try:
            return PayResult.from_wire(info, interface, account=account)
        except VosMalformed as exc:
            raise PayOutcomeUnknown(interface, exc.message) from exc

    def get_phone_card(self, *, pin: str, password: str | None = None) -> PhoneCard:
        """One card (GetPhoneCard); VosNotFound when the pin is unknown. With ``password``,
        a wrong one is VosRejected (-10116)."""
        payload: dict[str, Any] = {"pin": [pin]}
        if password is not None:
            payload["Password"] = password  # capital P, as the manual spells it
        data = self.call("GetPhoneCard", payload)
        records = _list(data, "infoPhoneCards", "GetPhoneCard")
        if not records:
            raise VosNotFound("GetPhoneCard", RET_NOT_FOUND, "Not found, operation failed.")
        return self._strict(PhoneCard.from_wire, records[0], "GetPhoneCard")

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
        records = _list(data, "infoPayHistorys", "GetPayHistory")
        return self._decoded(records, PayHistoryRecord.from_wire, "GetPayHistory")

    def get_consumption(
        self, *, begin: datetime, end: datetime, account: str = "", agent_account: str = ""
    ) -> list[ConsumptionRecord]:
        data = self.call("GetConsumption", self._period_query(begin, end, account, agent_account))
        records = _list(data, "infoConsumptions", "GetConsumption")
        return self._decoded(records, ConsumptionRecord.from_wire, "GetConsumption")

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
        records = _list(data, "infoReportCustomerFees", "GetReportCustomerFee")
        return self._decoded(records, FeeReportRow.from_wire, "GetReportCustomerFee")

    def fee_report_windows(
        self, *, accounts: Sequence[str], first: date, last: date
    ) -> Iterator[tuple[date, date, list[FeeReportRow]]]:
        """GetReportCustomerFee over first..last: ``(begin, end, rows)`` per window asked.

        One window first; a window VOS refuses with -10033 is split in halves (the first
        half takes the odd day) until VOS answers; a refused single day is raised.
        """

        def ask(begin: date, end: date) -> list[FeeReportRow]:
            return self.get_fee_report(accounts=accounts, begin=begin, end=end)

        yield from halved_on_too_long(first, last, (last - first).days + 1, ask)

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
        return self.cdrs_decoded(
            self.get_cdr_wire_records(
                accounts=accounts,
                begin=begin,
                end=end,
                caller_e164=caller_e164,
                callee_e164=callee_e164,
            )
        )

    def cdrs_decoded(self, records: list[Any]) -> list[CdrRecord]:
        """`get_cdr_wire_records`' records decoded (malformed ones skipped, as everywhere)."""
        return self._decoded(records, CdrRecord.from_wire, "GetCdr")

    def get_cdr_wire_records(
        self,
        *,
        accounts: Sequence[str],
        begin: date,
        end: date,
        caller_e164: str = "",
        callee_e164: str = "",
    ) -> list[Any]:
        """`get_cdrs` with the records left as the JSON decoder gave them, for a caller that
        decodes them elsewhere (`cdrs_decoded`; the CDR ingest decodes in its storing thread
        on SQLite, in its look-ahead thread on PostgreSQL)."""
        payload: dict[str, Any] = {"accounts": list(accounts)}
        if caller_e164:
            payload["callerE164"] = caller_e164
        if callee_e164:
            payload["calleeE164"] = callee_e164

        def ask(first: date, last: date) -> list[Any]:
            data = self.call(
                "GetCdr", {**payload, "beginTime": format_day(first), "endTime": format_day(last)}
            )
            return _list(data, "infoCdrs", "GetCdr")

        windows = halved_on_too_long(begin, end, self.cdr_window_days, ask, learn=self._learn)
        return [record for _, _, records in windows for record in records]

    def _learn(self, days: int) -> None:
        log.warning(
            "VOS %s refuses %d-day CDR windows; asking %d days at a time",
            self.name,
            self.cdr_window_days,
            days,
        )
        self.cdr_window_days = days

    # -- rates --

    def get_fee_rate_groups(self, names: Sequence[str] = ()) -> list[FeeRateGroup]:
        payload = {"names": list(names)} if names else {}
        data = self.call("GetFeeRateGroup", payload)
        records = _list(data, "infoFeeRateGroups", "GetFeeRateGroup")
        return self._decoded(records, FeeRateGroup.from_wire, "GetFeeRateGroup")

    def get_fee_rates(self, *, group: str, area_codes: Sequence[str] = ()) -> list[FeeRate]:
        payload: dict[str, Any] = {"feeRateGroup": group}
        if area_codes:
            payload["areaCodes"] = list(area_codes)
        data = self.call("GetFeeRate", payload)
        return self._decoded(
            _list(data, "infoFeeRates", "GetFeeRate"), FeeRate.from_wire, "GetFeeRate"
        )

    def get_available_time(self, *, phone: str, callee: str) -> AvailableTime:
        """GetAvailableTime with the phone as billing name (billingMode 0)."""
        data = self.call(
            "GetAvailableTime", {"billingMode": 0, "billingName": phone, "calleeE164": callee}
        )
        info = data.get("InfoAvailableTime", data.get("infoAvailableTime"))
        return self._strict(AvailableTime.from_wire, info, "GetAvailableTime")

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
        return self._decoded(_list(data, "infoPhones", "GetPhone"), PhoneInfo.from_wire, "GetPhone")

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
        interface = "GetCustomerPhoneBook"
        data = self.call(interface, {"account": account})
        records = _list(data, "infoCustomerPhoneBooks", interface)
        return self._decoded(records, PhoneBookEntry.from_wire, interface)

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
