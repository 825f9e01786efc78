"""Customers and phones (manual 2.1-2.8, 2.64): accounts, their settings and SIP phones."""

from __future__ import annotations

from decimal import Decimal

from .api import (
    Body,
    Reader,
    Registry,
    at_least,
    check_agent,
    choice,
    copy_record,
    customer_of,
    money_field,
    nested,
    read_fields,
    text,
    unique,
)
from .faults import Faults
from .records import DEFAULT_VALID_MS, PAY_CREATE_ACCOUNT, new_customer, new_phone
from .state import SwitchState
from .wire import (
    ACCOUNT_EXISTS,
    ACCOUNT_IN_USE,
    MISSING,
    NOT_FOUND,
    PHONE_EXISTS,
    ApiError,
    opt_bool,
    opt_int,
    opt_number,
    opt_object,
    opt_str,
    opt_str_list,
    req_bool,
    req_str,
)

api = Registry()


_ADDITIONAL_FIELDS: dict[str, Reader] = {
    "cardType": choice(0, 1, 2, 3, 4, 5),
    "reportType": choice(0, 1, 2, 3),
    **{
        name: text(255)
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
    "name": text(64),
    "limitMoney": money_field,
    "feeRateGroup": text(64),
    "type": choice(0, 1, 2),
    "lockType": choice(0, 1),
    "agentAccount": text(64),
    "phoneBookLimit": at_least(0),
    "validTime": at_least(0),
    "memo": text(255),
    "infoCustomerAdditional": nested(_ADDITIONAL_FIELDS),
}
_PHONE_FIELDS: dict[str, Reader] = {
    "password": text(32),
    "displayNumber": text(64),
    "lockType": choice(0, 1, 2, 3),
    "callLevel": choice(1, 2, 4, 5),
    "feerateGroup": text(255),
    "monthlyMoneyMinimum": money_field,
    "monthlyMoneyMaximum": money_field,
    "monthlyRentFee": money_field,
    "rewriteRulesOutCallee": text(65535),
    "rewriteRulesInCallee": text(65535),
    "rewriteRulesInCaller": text(65535),
    "routingGatewayGroupsAllow": opt_bool,
    "routingGatewayGroups": text(255),
    "account": text(64),
    "equipment": text(64),
    "calleeBilling": opt_bool,
    "customerPassword": text(32),
    "lineCallIn": at_least(-1),
    "lineCallOut": at_least(-1),
    "lineCapacity": at_least(-1),
    "phonebookLimit": at_least(0),
    "callerLimitE164GroupsAllow": opt_bool,
    "callerLimitE164Groups": text(255),
    "calleeLimitE164Allow": opt_bool,
    "calleeLimitE164Groups": text(255),
    "memo": text(255),
    "infoPhoneValueAdded": opt_object,
    "infoPhoneAdditional": opt_object,
}
# --- customers ----------------------------------------------------------------------------


def customer_answer(state: SwitchState, customer: Body) -> Body:
    """An InfoCustomer as GetCustomer prints it: todayConsumption comes before memo."""
    answer = copy_record(customer)
    memo = answer.pop("memo")
    additional = answer.pop("infoCustomerAdditional")
    answer["todayConsumption"] = state.today_consumption(customer["account"])
    answer["memo"] = memo
    answer["infoCustomerAdditional"] = additional
    return answer


@api("GetCustomer")
def get_customer(state: SwitchState, faults: Faults, body: Body) -> Body:
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


@api("GetAllCustomers")
def get_all_customers(state: SwitchState, faults: Faults, body: Body) -> Body:
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


@api("CreateCustomer", write=True)
def create_customer(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    fields = read_fields(body, _CUSTOMER_FIELDS)
    money = opt_number(body, "money") or Decimal("0")
    if account in state.customers:
        raise ApiError(ACCOUNT_EXISTS)
    check_agent(state, account, fields)
    now = state.now_ms()
    if not fields.get("validTime"):  # 0: "set by system parameter"
        fields["validTime"] = now + DEFAULT_VALID_MS
    state.customers[account] = new_customer(account, now, **fields)
    if money:
        state.pay(account, money, kind=PAY_CREATE_ACCOUNT, at_ms=now)
    return {}


@api("ModifyCustomer", write=True)
def modify_customer(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    fields = read_fields(body, _CUSTOMER_FIELDS)  # no money here: balances move by Pay only
    customer = customer_of(state, account)
    check_agent(state, account, fields)
    if not fields.get("validTime"):
        fields.pop("validTime", None)
    customer["infoCustomerAdditional"].update(fields.pop("infoCustomerAdditional", {}))
    customer.update(fields)
    return {}


@api("DeleteCustomer", write=True)
def delete_customer(state: SwitchState, faults: Faults, body: Body) -> Body:
    account = req_str(body, "account", 64)
    customer_of(state, account)
    if state.customers_of_agent(account):
        raise ApiError(ACCOUNT_IN_USE)
    del state.customers[account]
    for e164 in list(state.phones_of(account)):
        del state.phones[e164]
    state.phones_changed()
    state.phone_books.pop(account, None)
    return {}


# --- phones -------------------------------------------------------------------------------


@api("GetPhone")
def get_phone(state: SwitchState, faults: Faults, body: Body) -> Body:
    e164s = opt_str_list(body, "e164s") or []
    accounts = opt_str_list(body, "accounts") or []
    if not e164s and not accounts:
        raise ApiError(MISSING)
    numbers = [e for e in e164s if e in state.phones]
    numbers += [e for a in accounts for e in state.phones_of(a)]
    return {"infoPhones": [copy_record(state.phones[e]) for e in unique(numbers)]}


@api("CreatePhone", write=True)
def create_phone(state: SwitchState, faults: Faults, body: Body) -> Body:
    auto_create = req_bool(body, "autoCreateAccount")
    e164 = req_str(body, "e164", 64)
    fields = read_fields(body, _PHONE_FIELDS)
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


@api("ModifyPhone", write=True)
def modify_phone(state: SwitchState, faults: Faults, body: Body) -> Body:
    e164 = req_str(body, "e164", 64)
    fields = read_fields(body, _PHONE_FIELDS)
    phone = state.phones.get(e164)
    if phone is None:
        raise ApiError(NOT_FOUND)
    if fields.get("account") == "":
        del fields["account"]  # a phone always belongs to an account
    if fields.get("account", phone["account"]) not in state.customers:
        raise ApiError(NOT_FOUND)
    group = fields.get("feerateGroup")
    if group and group not in state.fee_rate_groups:
        raise ApiError(NOT_FOUND)
    for name, value in fields.items():
        if isinstance(value, dict):
            phone[name].update(value)
        else:
            phone[name] = value
    state.phones_changed()
    return {}


@api("DeletePhone", write=True)
def delete_phone(state: SwitchState, faults: Faults, body: Body) -> Body:
    e164 = req_str(body, "e164", 64)
    if state.phones.pop(e164, None) is None:
        raise ApiError(NOT_FOUND)
    state.registrations.pop(e164, None)  # a deleted phone is no longer online
    state.phones_changed()
    return {}
