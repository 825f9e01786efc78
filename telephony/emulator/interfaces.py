"""The interfaces of manual section 2 that the portal uses, over an EmulatorState.

Each handler takes the decoded request object and returns the answer's payload (retCode is
added by :func:`handle`) or raises ApiError. Handlers run under ``state.lock`` and return
copies of mutable records, so the answer can be serialised after the lock is released.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .faults import Faults
from .state import (
    DEFAULT_VALID_MS,
    PAY_CREATE_ACCOUNT,
    EmulatorState,
    new_customer,
    new_phone,
)
from .wire import (
    ACCOUNT_EXISTS,
    ACCOUNT_IN_USE,
    ENTRY_EXISTS,
    INPUT_ERROR,
    INTERVAL_TOO_LONG,
    MISSING,
    NOT_FOUND,
    PHONE_BOOK_FULL,
    PHONE_EXISTS,
    ApiError,
    day_start_ms,
    opt_bool,
    opt_int,
    opt_number,
    opt_object,
    opt_str,
    opt_str_list,
    req_bool,
    req_day,
    req_int,
    req_number,
    req_second_ms,
    req_str,
    req_str_list,
)

Body = dict[str, Any]
Handler = Callable[[EmulatorState, Faults, Body], Body]

INTERFACES: dict[str, Handler] = {}
WRITES: set[str] = set()
# On error some interfaces keep their list key, others drop it (VOS3000-FACTS.md).
ERROR_EXTRAS: dict[str, Body] = {"GetCdr": {"infoCdrs": []}}


def interface(name: str, *, write: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        INTERFACES[name] = handler
        if write:
            WRITES.add(name)
        return handler

    return register


def handle(name: str, body: Body, state: EmulatorState, faults: Faults) -> tuple[Body, bool]:
    """The answer to ``body`` sent to interface ``name``, and whether the state changed."""
    try:
        with state.lock:
            payload = INTERFACES[name](state, faults, body)
    except ApiError as error:
        failed = {"retCode": error.code, "exception": error.message, **ERROR_EXTRAS.get(name, {})}
        return failed, False
    return {"retCode": 0, **payload}, name in WRITES


# --- field readers: (body, name) -> value or None when absent -------------------------------

Reader = Callable[[Body, str], Any]


def _text(max_len: int) -> Reader:
    return lambda body, name: opt_str(body, name, max_len)


def _choice(*allowed: int) -> Reader:
    def read(body: Body, name: str) -> int | None:
        value = opt_int(body, name)
        if value is not None and value not in allowed:
            raise ApiError(INPUT_ERROR)
        return value

    return read


def _at_least(minimum: int) -> Reader:
    def read(body: Body, name: str) -> int | None:
        value = opt_int(body, name)
        if value is not None and value < minimum:
            raise ApiError(INPUT_ERROR)
        return value

    return read


def _money(body: Body, name: str) -> Decimal | None:
    value = opt_number(body, name)
    if value is not None and value < 0:
        raise ApiError(INPUT_ERROR)
    return value


def _read_fields(body: Body, spec: dict[str, Reader]) -> Body:
    return {name: value for name, read in spec.items() if (value := read(body, name)) is not None}


def _nested(spec: dict[str, Reader]) -> Reader:
    def read(body: Body, name: str) -> Body | None:
        value = opt_object(body, name)
        return None if value is None else _read_fields(value, spec)

    return read


_ADDITIONAL_FIELDS: dict[str, Reader] = {
    "cardType": _choice(0, 1, 2, 3, 4, 5),
    "reportType": _choice(0, 1, 2, 3),
    **{
        name: _text(255)
        for name in (
            "cardNumber",
            "address",
            "postCode",
            "linkMan",
            "telephone",
            "fax",
            "email",
            "emailCc",
            "emailBcc",
            "companyName",
            "bank",
        )
    },
}
_CUSTOMER_FIELDS: dict[str, Reader] = {
    "name": _text(64),
    "limitMoney": _money,
    "feeRateGroup": _text(64),
    "type": _choice(0, 1, 2),
    "lockType": _choice(0, 1),
    "agentAccount": _text(64),
    "phoneBookLimit": _at_least(0),
    "validTime": _at_least(0),
    "memo": _text(255),
    "infoCustomerAdditional": _nested(_ADDITIONAL_FIELDS),
}
_PHONE_FIELDS: dict[str, Reader] = {
    "password": _text(32),
    "displayNumber": _text(64),
    "lockType": _choice(0, 1, 2, 3),
    "callLevel": _choice(1, 2, 4, 5),
    "feerateGroup": _text(255),
    "monthlyMoneyMinimum": _money,
    "monthlyMoneyMaximum": _money,
    "monthlyRentFee": _money,
    "rewriteRulesOutCallee": _text(65535),
    "rewriteRulesInCallee": _text(65535),
    "rewriteRulesInCaller": _text(65535),
    "routingGatewayGroupsAllow": opt_bool,
    "routingGatewayGroups": _text(255),
    "account": _text(64),
    "equipment": _text(64),
    "calleeBilling": opt_bool,
    "customerPassword": _text(32),
    "lineCallIn": _at_least(-1),
    "lineCallOut": _at_least(-1),
    "lineCapacity": _at_least(-1),
    "phonebookLimit": _at_least(0),
    "callerLimitE164GroupsAllow": opt_bool,
    "callerLimitE164Groups": _text(255),
    "calleeLimitE164Allow": opt_bool,
    "calleeLimitE164Groups": _text(255),
    "memo": _text(255),
    "infoPhoneValueAdded": opt_object,
    "infoPhoneAdditional": opt_object,
}
_PHONE_BOOK_FIELDS: dict[str, Reader] = {
    "shortE164s": opt_str_list,
    "name": _text(64),
    "department": _text(64),
    "deviceType": _choice(0, 1, 2, 3),
    "addressType": _choice(0, 1, 2),
    "type": _choice(0, 1),
    "memo": _text(255),
}


def _copy(record: Body) -> Body:
    """A copy deep enough that later writes to the stored record can't reach the answer."""
    copied = dict(record)
    for key, value in copied.items():
        if isinstance(value, dict | list):
            copied[key] = type(value)(value)
    return copied


def _customer(state: EmulatorState, account: str) -> Body:
    customer = state.customers.get(account)
    if customer is None:
        raise ApiError(NOT_FOUND)
    return customer


def _check_agent(state: EmulatorState, account: str, fields: Body) -> None:
    agent = fields.get("agentAccount")
    if agent == account:
        raise ApiError(INPUT_ERROR)
    if agent and agent not in state.customers:
        raise ApiError(NOT_FOUND)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- customers ----------------------------------------------------------------------------


def customer_answer(state: EmulatorState, customer: Body) -> Body:
    """An InfoCustomer as GetCustomer prints it: todayConsumption comes before memo."""
    answer = _copy(customer)
    memo = answer.pop("memo")
    additional = answer.pop("infoCustomerAdditional")
    answer["todayConsumption"] = state.today_consumption(customer["account"])
    answer["memo"] = memo
    answer["infoCustomerAdditional"] = additional
    return answer


@interface("GetCustomer")
def get_customer(state: EmulatorState, faults: Faults, body: Body) -> Body:
    accounts = opt_str_list(body, "accounts") or []
    e164s = opt_str_list(body, "e164s") or []
    if not accounts and not e164s:
        raise ApiError(MISSING)
    agent_filter = opt_str(body, "filterAgentAccount", 64)  # newer builds
    owners = [state.phones[e]["account"] for e in e164s if e in state.phones]
    found = (set(accounts) | set(owners)) & state.customers.keys()
    unknown = len(owners) < len(e164s) or any(a not in state.customers for a in accounts)
    if not found or (unknown and faults.strict_unknown):
        raise ApiError(NOT_FOUND)
    if agent_filter:
        found = {a for a in found if state.customers[a]["agentAccount"] == agent_filter}
    # The softswitch answers in its own (table) order, not in the order asked.
    ordered = found if len(found) < 2 else [a for a in state.customers if a in found]
    return {"infoCustomers": [customer_answer(state, state.customers[a]) for a in ordered]}


@interface("GetAllCustomers")
def get_all_customers(state: EmulatorState, faults: Faults, body: Body) -> Body:
    if opt_int(body, "type") == 1:  # newer builds: one call for every balance
        briefs = [
            {
                "account": c["account"],
                "money": c["money"],
                "limitMoney": c["limitMoney"],
                "agentAccount": c["agentAccount"],
            }
            for c in state.customers.values()
        ]
        return {"infoCustomerBriefs": briefs}
    return {"accounts": list(state.customers)}


@interface("CreateCustomer", write=True)
def create_customer(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    fields = _read_fields(body, _CUSTOMER_FIELDS)
    money = opt_number(body, "money") or Decimal("0")
    if account in state.customers:
        raise ApiError(ACCOUNT_EXISTS)
    _check_agent(state, account, fields)
    now = state.now_ms()
    if not fields.get("validTime"):  # 0: "set by system parameter"
        fields["validTime"] = now + DEFAULT_VALID_MS
    state.customers[account] = new_customer(account, now, **fields)
    if money:
        state.pay(account, money, kind=PAY_CREATE_ACCOUNT, at_ms=now)
    return {}


@interface("ModifyCustomer", write=True)
def modify_customer(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    fields = _read_fields(body, _CUSTOMER_FIELDS)  # no money here: balances move by Pay only
    customer = _customer(state, account)
    _check_agent(state, account, fields)
    if not fields.get("validTime"):
        fields.pop("validTime", None)
    customer["infoCustomerAdditional"].update(fields.pop("infoCustomerAdditional", {}))
    customer.update(fields)
    return {}


@interface("DeleteCustomer", write=True)
def delete_customer(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    _customer(state, account)
    if state.customers_of_agent(account):
        raise ApiError(ACCOUNT_IN_USE)
    del state.customers[account]
    for e164 in list(state.phones_of(account)):
        del state.phones[e164]
    state.phones_changed()
    state.phone_books.pop(account, None)
    return {}


# --- money --------------------------------------------------------------------------------

OWNER_ACCOUNT, OWNER_PHONE = 2, 6


@interface("Pay", write=True)
def pay(state: EmulatorState, faults: Faults, body: Body) -> Body:
    owner = req_str(body, "ownerName", 64)
    owner_type = req_int(body, "ownerType")
    money = req_number(body, "money")
    memo = opt_str(body, "memo", 255) or ""
    if owner_type == OWNER_ACCOUNT:
        account = owner
    elif owner_type == OWNER_PHONE:
        phone = state.phones.get(owner)
        if phone is None:
            raise ApiError(NOT_FOUND)
        account = phone["account"]
    else:  # 11 phone card, 25 bound number, 44 mapping gateway: not emulated
        raise ApiError(INPUT_ERROR)
    customer = _customer(state, account)
    record = state.pay(account, money, memo=memo)
    info = {
        "account": account,
        "money": record["customerMoney"],
        "validTime": customer["validTime"],
        "payMoney": money,
    }
    return {"infoPay": info}


def _history(state: EmulatorState, body: Body, records: list[Body], time_key: str) -> list[Body]:
    """Records of an account, or of an agent's customers, in a yyyyMMddHHmmss window."""
    account = opt_str(body, "account", 64)
    agent = opt_str(body, "agentAccount", 64)
    if not account and not agent:
        raise ApiError(MISSING)
    begin = req_second_ms(body, "beginTime", state.tz)
    end = req_second_ms(body, "endTime", state.tz) + 999  # the whole last second
    if account:
        _customer(state, account)
        accounts = {account}
    else:
        _customer(state, agent)
        accounts = set(state.customers_of_agent(agent))
    return [dict(r) for r in records if r["account"] in accounts and begin <= r[time_key] <= end]


@interface("GetPayHistory")
def get_pay_history(state: EmulatorState, faults: Faults, body: Body) -> Body:
    records = _history(state, body, state.pay_history, "payTime")
    if not faults.pay_history_memo:
        for record in records:
            record.pop("memo", None)
    return {"infoPayHistorys": records}


@interface("GetConsumption")
def get_consumption(state: EmulatorState, faults: Faults, body: Body) -> Body:
    return {"infoConsumptions": _history(state, body, state.consumptions, "time")}


# --- CDRs and reports ---------------------------------------------------------------------

_CDR_FILTERS = ("callerE164", "calleeE164", "callerGateway", "calleeGateway")
_LEVELS = {1: "net", 2: "local", 4: "domestic", 5: "international"}


def _days(body: Body) -> tuple[date, date]:
    return req_day(body, "beginTime"), req_day(body, "endTime")


def _cdrs(state: EmulatorState, accounts: Iterable[str], begin: date, end: date) -> list[Body]:
    """CDRs that started on local days begin..end (both included)."""
    begin_ms = day_start_ms(begin, state.tz)
    end_ms = day_start_ms(end + timedelta(days=1), state.tz)
    found: list[Body] = []
    for account in _unique(accounts):
        found.extend(state.cdrs_between(account, begin_ms, end_ms))
    return found


@interface("GetCdr")
def get_cdr(state: EmulatorState, faults: Faults, body: Body) -> Body:
    accounts = req_str_list(body, "accounts")
    begin, end = _days(body)
    filters = {k: v for k in _CDR_FILTERS if (v := opt_str(body, k, 64))}
    if (end - begin).days + 1 > faults.cdr_max_days:
        raise ApiError(INTERVAL_TOO_LONG)
    records = [
        r for r in _cdrs(state, accounts, begin, end) if all(r[k] == v for k, v in filters.items())
    ]
    if not faults.cdr_flow_no:
        records = [{k: v for k, v in r.items() if k != "flowNo"} for r in records]
    return {"infoCdrs": records}


def _buckets(begin: date, end: date, period: int) -> list[date]:
    """Start days of the report periods covering begin..end, plus the day after the end."""
    starts = [begin]
    while starts[-1] <= end:
        last = starts[-1]
        if period == -2:
            starts.append((last.replace(day=1) + timedelta(days=32)).replace(day=1))
        else:
            starts.append(last + timedelta(days=period))
    starts[-1] = end + timedelta(days=1)
    return starts


def _report_row(account: str, begin: int, end: int, cdrs: list[Body]) -> Body:
    zero = Decimal("0")
    row: Body = {
        "beginTime": begin,
        "endTime": end - 1,  # the last millisecond of the period
        "account": account,
        "accountName": cdrs[0]["accountName"],
        "cdrCount": len(cdrs),
        "totalFee": sum((c["fee"] for c in cdrs), zero),
        "totalTime": sum(c["feeTime"] for c in cdrs),
        "totalSuiteFee": sum((c["suiteFee"] for c in cdrs), zero),
        "totalSuiteFeeTime": sum(c["suiteFeeTime"] for c in cdrs),
    }
    for level, prefix in _LEVELS.items():
        these = [c for c in cdrs if c["callLevel"] == level]
        row[f"{prefix}Fee"] = sum((c["fee"] for c in these), zero)
        row[f"{prefix}Time"] = sum(c["feeTime"] for c in these)
        row[f"{prefix}Count"] = len(these)
    return row


@interface("GetReportCustomerFee")
def get_report_customer_fee(state: EmulatorState, faults: Faults, body: Body) -> Body:
    accounts = req_str_list(body, "accounts")
    period = req_int(body, "period")
    begin, end = _days(body)
    if period != -2 and period < 1:
        raise ApiError(INPUT_ERROR)
    if end < begin:
        return {"infoReportCustomerFees": []}
    if (end - begin).days + 1 > faults.report_max_days:
        raise ApiError(INTERVAL_TOO_LONG)
    bounds = [day_start_ms(day, state.tz) for day in _buckets(begin, end, period)]
    rows = []
    for account in _unique(accounts):
        grouped: dict[int, list[Body]] = {}
        for cdr in _cdrs(state, [account], begin, end):
            grouped.setdefault(bisect.bisect_right(bounds, cdr["start"]) - 1, []).append(cdr)
        rows.extend(
            _report_row(account, bounds[i], bounds[i + 1], grouped[i]) for i in sorted(grouped)
        )
    return {"infoReportCustomerFees": rows}


# --- phones -------------------------------------------------------------------------------


@interface("GetPhone")
def get_phone(state: EmulatorState, faults: Faults, body: Body) -> Body:
    e164s = opt_str_list(body, "e164s") or []
    accounts = opt_str_list(body, "accounts") or []
    if not e164s and not accounts:
        raise ApiError(MISSING)
    numbers = [e for e in e164s if e in state.phones]
    numbers += [e for a in accounts for e in state.phones_of(a)]
    return {"infoPhones": [_copy(state.phones[e]) for e in _unique(numbers)]}


@interface("CreatePhone", write=True)
def create_phone(state: EmulatorState, faults: Faults, body: Body) -> Body:
    auto_create = req_bool(body, "autoCreateAccount")
    e164 = req_str(body, "e164", 64)
    fields = _read_fields(body, _PHONE_FIELDS)
    account = fields.pop("account", "")
    if e164 in state.phones:
        raise ApiError(PHONE_EXISTS)
    if not account:
        if not auto_create:
            raise ApiError(MISSING)
        account = e164  # the account VOS creates is named after the phone
    if account not in state.customers:
        if not auto_create:
            raise ApiError(NOT_FOUND)
        state.customers[account] = new_customer(account, state.now_ms())
    state.phones[e164] = new_phone(e164, account, **fields)
    return {}


@interface("ModifyPhone", write=True)
def modify_phone(state: EmulatorState, faults: Faults, body: Body) -> Body:
    e164 = req_str(body, "e164", 64)
    fields = _read_fields(body, _PHONE_FIELDS)
    phone = state.phones.get(e164)
    if phone is None:
        raise ApiError(NOT_FOUND)
    if fields.get("account") == "":
        del fields["account"]  # a phone always belongs to an account
    if fields.get("account", phone["account"]) not in state.customers:
        raise ApiError(NOT_FOUND)
    for name, value in fields.items():
        if isinstance(value, dict):
            phone[name].update(value)
        else:
            phone[name] = value
    state.phones_changed()
    return {}


@interface("DeletePhone", write=True)
def delete_phone(state: EmulatorState, faults: Faults, body: Body) -> Body:
    e164 = req_str(body, "e164", 64)
    if state.phones.pop(e164, None) is None:
        raise ApiError(NOT_FOUND)
    state.phones_changed()
    return {}


# --- phone book ---------------------------------------------------------------------------


def _book_entry(book: list[Body], e164: str) -> int | None:
    return next((i for i, entry in enumerate(book) if entry["e164"] == e164), None)


@interface("GetCustomerPhoneBook")
def get_customer_phone_book(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = opt_str(body, "account", 64)
    e164 = opt_str(body, "e164", 64)
    if not account and not e164:
        raise ApiError(MISSING)
    if not account:  # a phone's number stands for its account
        phone = state.phones.get(e164)
        if phone is None:
            raise ApiError(NOT_FOUND)
        account = phone["account"]
    _customer(state, account)
    return {"infoCustomerPhoneBooks": [_copy(e) for e in state.phone_books.get(account, [])]}


@interface("CreateCustomerPhoneBook", write=True)
def create_customer_phone_book(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164 = req_str(body, "e164", 64)
    overwrite = opt_bool(body, "overwrite") or False
    fields = _read_fields(body, _PHONE_BOOK_FIELDS)
    customer = _customer(state, account)
    book = state.phone_books.setdefault(account, [])
    entry = {
        "e164": e164,
        "shortE164s": [],
        "name": "",
        "department": "",
        "deviceType": 0,
        "addressType": 0,
        "type": 0,
        "lastUpdateTime": state.now_ms(),
        "memo": "",
        **fields,
    }
    index = _book_entry(book, e164)
    if index is not None:
        if not overwrite:
            raise ApiError(ENTRY_EXISTS)
        book[index] = entry
    elif len(book) >= customer["phoneBookLimit"]:
        raise ApiError(PHONE_BOOK_FULL)
    else:
        book.append(entry)
    return {}


@interface("ModifyCustomerPhoneBook", write=True)
def modify_customer_phone_book(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164 = req_str(body, "e164", 64)
    new_e164 = opt_str(body, "newE164", 64)
    fields = _read_fields(body, _PHONE_BOOK_FIELDS)
    _customer(state, account)
    book = state.phone_books.get(account, [])
    index = _book_entry(book, e164)
    if index is None:
        raise ApiError(NOT_FOUND)
    if new_e164 and new_e164 != e164:
        if _book_entry(book, new_e164) is not None:
            raise ApiError(ENTRY_EXISTS)
        fields["e164"] = new_e164
    book[index] = {**book[index], **fields, "lastUpdateTime": state.now_ms()}
    return {}


@interface("DeleteCustomerPhoneBook", write=True)
def delete_customer_phone_book(state: EmulatorState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164s = set(req_str_list(body, "e164s"))
    _customer(state, account)
    book = state.phone_books.get(account)
    if book:  # numbers not in the book are ignored, like a SQL DELETE ... IN (...)
        book[:] = [entry for entry in book if entry["e164"] not in e164s]
    return {}
