"""What every interface handler shares: the registry, request field readers, helpers.

Each handler takes the decoded request object and returns the answer's payload (retCode is
added by ``interfaces.handle``) or raises ApiError. Handlers run under ``state.lock`` and
return copies of mutable records, so the answer can be serialised after the lock is released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from .faults import Faults
from .state import SwitchState
from .wire import (
    INPUT_ERROR,
    NOT_FOUND,
    ApiError,
    opt_int,
    opt_number,
    opt_object,
    opt_str,
)

Body = dict[str, Any]
Handler = Callable[[SwitchState, Faults, Body], Body]


class Registry:
    """The interfaces of one module: ``@api("GetCustomer")`` registers a handler."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.writes: set[str] = set()

    def __call__(self, name: str, *, write: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers[name] = handler
            if write:
                self.writes.add(name)
            return handler

        return register


# --- field readers: (body, name) -> value or None when absent -------------------------------

Reader = Callable[[Body, str], Any]


def text(max_len: int) -> Reader:
    return lambda body, name: opt_str(body, name, max_len)


def choice(*allowed: int) -> Reader:
    def read(body: Body, name: str) -> int | None:
        value = opt_int(body, name)
        if value is not None and value not in allowed:
            raise ApiError(INPUT_ERROR)
        return value

    return read


def at_least(minimum: int) -> Reader:
    def read(body: Body, name: str) -> int | None:
        value = opt_int(body, name)
        if value is not None and value < minimum:
            raise ApiError(INPUT_ERROR)
        return value

    return read


def money_field(body: Body, name: str) -> Decimal | None:
    value = opt_number(body, name)
    if value is not None and value < 0:
        raise ApiError(INPUT_ERROR)
    return value


def read_fields(body: Body, spec: dict[str, Reader]) -> Body:
    return {name: value for name, read in spec.items() if (value := read(body, name)) is not None}


def nested(spec: dict[str, Reader]) -> Reader:
    def read(body: Body, name: str) -> Body | None:
        value = opt_object(body, name)
        return None if value is None else read_fields(value, spec)

    return read


def copy_record(record: Body) -> Body:
    """A copy deep enough that later writes to the stored record can't reach the answer."""
    copied = dict(record)
    for key, value in copied.items():
        if isinstance(value, dict | list):
            copied[key] = type(value)(value)
    return copied


def customer_of(state: SwitchState, account: str) -> Body:
    customer = state.customers.get(account)
    if customer is None:
        raise ApiError(NOT_FOUND)
    return customer


def check_agent(state: SwitchState, account: str, fields: Body) -> None:
    agent = fields.get("agentAccount")
    if agent == account:
        raise ApiError(INPUT_ERROR)
    if agent and agent not in state.customers:
        raise ApiError(NOT_FOUND)


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def phone_of(state: SwitchState, e164: str) -> Body:
    phone = state.phones.get(e164)
    if phone is None:
        raise ApiError(NOT_FOUND)
    return phone
