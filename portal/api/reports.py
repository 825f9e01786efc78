"""Call records, statements and payments of one account, read from the local mirror."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Schema

from accounts.scoping import profile_of
from billing.selectors import payments_for, statement_for
from telephony.models import VosAccount
from telephony.selectors import BACKWARD, calls_after, day_bounds

from .auth import api_key
from .problems import ApiProblem
from .schemas import money


class CallsQuery(Schema):
    since: datetime | None = Field(None, description="Only calls that started at or after it.")
    after: int | None = Field(None, ge=1, description="Continue after this call id.")
    limit: int = Field(10, ge=1, le=500)
    direction: str = Field(BACKWARD, pattern=r"^(forward|backward)$")


class PeriodQuery(Schema):
    from_: date = Field(alias="from", description="First day (the caller's time zone).")
    to: date = Field(description="Last day, included.")


def call_out(call) -> dict:
    return {
        "id": call.pk,
        "start": call.start,
        "stop": call.stop,
        "caller": call.caller_e164,
        "callee": call.callee_e164,
        "duration": call.hold_time,
        "billed": call.fee_time,
        "cost": money(call.fee),
    }


def calls_of(account: VosAccount, query: CallsQuery) -> dict:
    page = calls_after(
        account,
        since=query.since,
        after=query.after,
        limit=query.limit,
        direction=query.direction,
    )
    return {"items": [call_out(call) for call in page.calls], "next": page.next_after}


def _tz(request: HttpRequest):
    profile = profile_of(api_key(request).user)
    name = profile.time_zone if profile and profile.time_zone else settings.TIME_ZONE
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return timezone.get_default_timezone()


def statement_of(request: HttpRequest, account: VosAccount, period: PeriodQuery) -> dict:
    if period.to < period.from_:
        raise ApiProblem(
            422,
            "`to` is before `from`.",
            kind="invalid",
            errors=[{"field": "to", "message": "must not be before from"}],
        )
    if (period.to - period.from_).days > 400:
        raise ApiProblem(422, "A statement covers at most 400 days.", kind="invalid")
    start, end = day_bounds(period.from_, period.to, _tz(request))
    result = statement_for(account, start=start, end=end)
    movements = result.period
    return {
        "account": account.account,
        "start": result.start,
        "end": result.end,
        "opening_balance": money(result.opening),
        "payments": money(movements.payments),
        "adjustments": money(movements.adjustments),
        "call_charges": money(movements.calls),
        "other_charges": money(movements.other),
        "total_charges": money(movements.calls + movements.other),
        "closing_balance": money(result.closing),
        "calls": result.call_count,
        "as_of": result.anchor_at,
    }


def payment_out(record) -> dict:
    return {
        "id": record.pk,
        "paid_at": record.paid_at,
        "amount": money(record.amount),
        "type": record.type,
        "balance_after": money(record.balance_after),
        "memo": record.memo,
    }


def payments_of(account: VosAccount):
    return payments_for(account)


__all__ = ["CallsQuery", "PeriodQuery", "Query", "calls_of", "payments_of", "statement_of"]
