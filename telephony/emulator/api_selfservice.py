"""What an end customer sees of its phones.

Phone book (manual 2.51-2.54), registrations (2.9 GetPhoneOnline) and calls in progress
(2.20 GetCurrentCall).
"""

from __future__ import annotations

from .api import (
    Body,
    Reader,
    Registry,
    choice,
    copy_record,
    customer_of,
    read_fields,
    text,
    unique,
)
from .faults import Faults
from .state import SwitchState
from .wire import (
    ENTRY_EXISTS,
    MISSING,
    NOT_FOUND,
    PHONE_BOOK_FULL,
    ApiError,
    opt_bool,
    opt_str,
    opt_str_list,
    req_str,
    req_str_list,
)

api = Registry()


_PHONE_BOOK_FIELDS: dict[str, Reader] = {
    "shortE164s": opt_str_list,
    "name": text(64),
    "department": text(64),
    "deviceType": choice(0, 1, 2, 3),
    "addressType": choice(0, 1, 2),
    "type": choice(0, 1),
    "memo": text(255),
}


# --- phone book ---------------------------------------------------------------------------


def _book_entry(book: list[Body], e164: str) -> int | None:
    return next((i for i, entry in enumerate(book) if entry["e164"] == e164), None)


@api("GetCustomerPhoneBook")
def get_customer_phone_book(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = opt_str(body, "account", 64)
    e164 = opt_str(body, "e164", 64)
    if not account and not e164:
        raise ApiError(MISSING)
    if not account:  # a phone's number stands for its account
        phone = state.phones.get(e164)
        if phone is None:
            raise ApiError(NOT_FOUND)
        account = phone["account"]
    customer_of(state, account)
    return {"infoCustomerPhoneBooks": [copy_record(e) for e in state.phone_books.get(account, [])]}


@api("CreateCustomerPhoneBook", write=True)
def create_customer_phone_book(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164 = req_str(body, "e164", 64)
    overwrite = opt_bool(body, "overwrite") or False
    fields = read_fields(body, _PHONE_BOOK_FIELDS)
    customer = customer_of(state, account)
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


@api("ModifyCustomerPhoneBook", write=True)
def modify_customer_phone_book(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164 = req_str(body, "e164", 64)
    new_e164 = opt_str(body, "newE164", 64)
    fields = read_fields(body, _PHONE_BOOK_FIELDS)
    customer_of(state, account)
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


@api("DeleteCustomerPhoneBook", write=True)
def delete_customer_phone_book(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    e164s = set(req_str_list(body, "e164s"))
    customer_of(state, account)
    book = state.phone_books.get(account)
    if book:  # numbers not in the book are ignored, like a SQL DELETE ... IN (...)
        book[:] = [entry for entry in book if entry["e164"] not in e164s]
    return {}


# --- registrations and calls in progress --------------------------------------------------

RTP_PACKETS_PER_SECOND = 50  # 20 ms frames
RTP_BYTES_PER_PACKET = 60  # G.729 with RTP/UDP/IP headers
KEEP_RINGING = -11  # keepTime of a call not answered yet: "Ringing"


def calls_now(state: SwitchState) -> list[Body]:
    """The stored calls in progress at the state's clock (stopTime not reached)."""
    now = state.now_ms()
    return [c for c in state.current_calls if c["connectedTime"] <= now < c["stopTime"]]


@api("GetPhoneOnline")
def get_phone_online(state: SwitchState, faults: Faults, body: Body) -> Body:
    e164s = unique(req_str_list(body, "e164s"))
    busy: dict[str, int] = {}
    for call in calls_now(state):
        for number in (call["callerE164"], call["calleeE164"]):
            busy[number] = busy.get(number, 0) + 1
    online = []
    for e164 in e164s:
        registration = state.registrations.get(e164)
        if registration is not None:  # phones not registered are left out
            online.append({**registration, "currentCall": busy.get(e164, 0)})
    return {"infoPhoneOnlines": [_online_answer(r) for r in online]}


_ONLINE_ORDER = (
    "e164",
    "currentCall",
    "remoteIp",
    "localIp",
    "registerTime",
    "updateTime",
    "protocol",
    "cryptoType",
    "productId",
)


def _online_answer(record: Body) -> Body:
    return {key: record[key] for key in _ONLINE_ORDER}


@api("GetCurrentCall")
def get_current_call(state: SwitchState, faults: Faults, body: Body) -> Body:
    callers = opt_str_list(body, "callerE164s")
    callees = opt_str_list(body, "calleeE164s")
    found = calls_now(state)
    if callers:
        found = [c for c in found if c["callerE164"] in callers]
    if callees:
        found = [c for c in found if c["calleeE164"] in callees]
    now = state.now_ms()
    return {"infoCurrentCalls": [_current_call_answer(c, now) for c in found]}


def _rtp_flow(talk_ms: int) -> Body:
    packets = talk_ms // 1000 * RTP_PACKETS_PER_SECOND
    return {
        "rtpPackets": packets,
        "rtpBytes": packets * RTP_BYTES_PER_PACKET,
        "rtpDuration": talk_ms * 1000,  # microseconds
    }


def _current_call_answer(call: Body, now_ms: int) -> Body:
    talk_ms = now_ms - call["connectedTime"] if call["connectedTime"] else 0
    answer = {k: v for k, v in call.items() if k != "stopTime"}
    answer["keepTime"] = talk_ms if call["connectedTime"] else KEEP_RINGING
    flows = {
        "callerInfoRtpFlowAudio": _rtp_flow(talk_ms),
        "calleeInfoRtpFlowAudio": _rtp_flow(talk_ms),
        "callerInfoRtpFlowVideo": _rtp_flow(0),
        "calleeInfoRtpFlowVideo": _rtp_flow(0),
    }
    ordered: Body = {}
    for key, value in answer.items():  # keepTime and the flows where the manual has them
        ordered[key] = value
        if key == "connectedTime":
            ordered["keepTime"] = answer["keepTime"]
        if key == "calleeSendDtmf":
            ordered.update(flows)
    return ordered
