"""The phone self-service interfaces of :class:`~telephony.vos.client.VosClient` (a mixin,
so client.py stays one screenful per concern): GetPhoneOnline, GetCurrentCall, ModifyPhone,
DeletePhone."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .phones import CurrentCall, PhoneOnline
from .transport import VosTransport
from .wire import _list

# The SIP password column of ModifyPhone (manual 2.6: at most 32 characters).
SIP_PASSWORD_MAX = 32


class PhoneCalls(VosTransport):
    def get_phones_online(self, *, e164s: Iterable[str]) -> list[PhoneOnline]:
        """The registered ones among ``e164s`` (phones not registered are simply absent)."""
        numbers = list(dict.fromkeys(e164s))
        if not numbers:
            return []
        data = self.call("GetPhoneOnline", {"e164s": numbers})
        records = _list(data, "infoPhoneOnlines", "GetPhoneOnline")
        return self._decoded(records, PhoneOnline.from_wire, "GetPhoneOnline")

    def get_current_calls(self, *, caller_e164s: Iterable[str]) -> list[CurrentCall]:
        """Calls in progress placed by these phones (never without a filter: it is costly)."""
        callers = list(dict.fromkeys(caller_e164s))
        if not callers:
            return []
        data = self.call("GetCurrentCall", {"callerE164s": callers})
        records = _list(data, "infoCurrentCalls", "GetCurrentCall")
        return self._decoded(records, CurrentCall.from_wire, "GetCurrentCall")

    def modify_phone(
        self,
        *,
        e164: str,
        password: str | None = None,
        monthly_money_maximum: Decimal | None = None,
    ) -> None:
        """ModifyPhone with only the given fields; setting values is safe to retry."""
        payload: dict[str, Any] = {"e164": e164}
        if password is not None:
            if not password or len(password) > SIP_PASSWORD_MAX:
                raise ValueError("password must be 1..32 characters")
            payload["password"] = password
        if monthly_money_maximum is not None:
            if not isinstance(monthly_money_maximum, Decimal) or monthly_money_maximum < 0:
                raise ValueError("monthly_money_maximum must be a Decimal >= 0")
            payload["monthlyMoneyMaximum"] = monthly_money_maximum
        if len(payload) == 1:
            raise ValueError("nothing to change")
        self.call("ModifyPhone", payload)

    def delete_phone(self, *, e164: str) -> None:
        self.call("DeletePhone", {"e164": e164}, retry=False)
