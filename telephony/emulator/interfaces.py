"""The interfaces of manual section 2 that the portal uses, over a SwitchState.

The handlers live in one module per concern (api_customers, api_money, api_reports,
api_rates, api_selfservice); this module puts them together and answers one request.
"""

from __future__ import annotations

from . import api_customers, api_money, api_rates, api_reports, api_selfservice
from .api import Body, Handler
from .faults import Faults
from .state import SwitchState
from .wire import ApiError

_MODULES = (api_customers, api_money, api_reports, api_rates, api_selfservice)
INTERFACES: dict[str, Handler] = {
    name: handler for module in _MODULES for name, handler in module.api.handlers.items()
}
WRITES: frozenset[str] = frozenset(name for module in _MODULES for name in module.api.writes)
# Interfaces that move money: drop_after_pay_rate closes their connection after the write.
PAYMENTS = frozenset({"Pay", "PayByPhoneCard"})
# On error some interfaces keep their list key, others drop it (VOS3000-FACTS.md).
ERROR_EXTRAS: dict[str, Body] = {"GetCdr": {"infoCdrs": []}}


def handle(name: str, body: Body, state: SwitchState, faults: Faults) -> tuple[Body, bool]:
    """The answer to ``body`` sent to interface ``name``, and whether the state changed."""
    try:
        with state.lock:
            payload = INTERFACES[name](state, faults, body)
    except ApiError as error:
        failed = {"retCode": error.code, "exception": error.message, **ERROR_EXTRAS.get(name, {})}
        return failed, False
    return {"retCode": 0, **payload}, name in WRITES
