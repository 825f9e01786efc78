"""Records and reports (manual 2.46 GetCdr, 2.47 GetReportCustomerFee), from the CDRs."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from .api import (
    Body,
    Registry,
    unique,
)
from .faults import Faults
from .state import SwitchState
from .wire import (
    INPUT_ERROR,
    INTERVAL_TOO_LONG,
    ApiError,
    day_start_ms,
    opt_str,
    req_day,
    req_int,
    req_str_list,
)

api = Registry()


# --- CDRs and reports ---------------------------------------------------------------------

_CDR_FILTERS = ("callerE164", "calleeE164", "callerGateway", "calleeGateway")
_LEVELS = {1: "net", 2: "local", 4: "domestic", 5: "international"}


def _days(body: Body) -> tuple[date, date]:
    return req_day(body, "beginTime"), req_day(body, "endTime")


def _cdrs(state: SwitchState, accounts: Iterable[str], begin: date, end: date) -> list[Body]:
    """CDRs that started on local days begin..end (both included)."""
    begin_ms = day_start_ms(begin, state.tz)
    end_ms = day_start_ms(end + timedelta(days=1), state.tz)
    found: list[Body] = []
    for account in unique(accounts):
        found.extend(state.cdrs_between(account, begin_ms, end_ms))
    return found


@api("GetCdr")
def get_cdr(state: SwitchState, faults: Faults, body: Body) -> Body:
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


@api("GetReportCustomerFee")
def get_report_customer_fee(state: SwitchState, faults: Faults, body: Body) -> Body:
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
    for account in unique(accounts):
        grouped: dict[int, list[Body]] = {}
        for cdr in _cdrs(state, [account], begin, end):
            grouped.setdefault(bisect.bisect_right(bounds, cdr["start"]) - 1, []).append(cdr)
        rows.extend(
            _report_row(account, bounds[i], bounds[i + 1], grouped[i]) for i in sorted(grouped)
        )
    return {"infoReportCustomerFees": rows}
