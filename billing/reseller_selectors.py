"""Reads of the reseller area: the customers list with burn and activity, from the mirror."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    BooleanField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Profile, Role
from accounts.scoping import reseller_customers
from telephony.models import MONEY, Cdr, VosAccount

from .models import FeeReport, LedgerEntry

BURN_DAYS = 7
LOW_DAYS_OF_BURN = 3
QUIET_AFTER = timedelta(days=14)

SORTS = {
    "account": ("account",),
    "-account": ("-account",),
    "name": ("name", "account"),
    "-name": ("-name", "account"),
    "balance": ("balance", "account"),
    "-balance": ("-balance", "account"),
    "spend": ("today_consumption", "account"),
    "-spend": ("-today_consumption", "account"),
    "last_call": (F("last_call").asc(nulls_first=True), "account"),
    "-last_call": (F("last_call").desc(nulls_last=True), "account"),
}
FILTERS = ("low", "quiet", "locked")


def _money(value) -> Value:
    return Value(Decimal(value), output_field=DecimalField(**MONEY))


def reseller_customer_rows(
    *, user, search: str = "", sort: str = "account", show: str = "", now: datetime | None = None
) -> QuerySet[VosAccount]:
    """The reseller's customers with ``burn`` (a day's average spend), ``last_call`` and
    ``threshold``, searched, filtered (``low``, ``quiet``, ``locked``) and sorted.

    One query: the aggregates are correlated subqueries on indexed columns (FeeReport by
    account and day, Cdr by account and start), so the page costs the same at any size.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = today - timedelta(days=BURN_DAYS)
    money = DecimalField(**MONEY)
    fees = (
        FeeReport.objects.filter(
            server=OuterRef("server"), account=OuterRef("account"), day__gte=since, day__lt=today
        )
        .values("account")
        .annotate(total=Sum("total_fee"))
        .values("total")
    )
    # Before the nightly fee reports exist, the call records tell the same story.
    cdr_fees = (
        Cdr.objects.filter(
            server=OuterRef("server"),
            account=OuterRef("account"),
            start__gte=now - timedelta(days=BURN_DAYS),
        )
        .values("account")
        .annotate(total=Sum("fee"))
        .values("total")
    )
    last_call = (
        Cdr.objects.filter(server=OuterRef("server"), account=OuterRef("account"))
        .order_by("-start")
        .values("start")[:1]
    )
    threshold = (
        Profile.objects.filter(vos_account=OuterRef("pk"), role=Role.CUSTOMER)
        .exclude(low_balance_threshold=None)
        .values("low_balance_threshold")[:1]
    )
    rows = reseller_customers(user).annotate(
        burn_total=Coalesce(
            Subquery(fees, output_field=money), Subquery(cdr_fees, output_field=money), _money(0)
        ),
        burn=ExpressionWrapper(F("burn_total") / _money(BURN_DAYS), output_field=money),
        last_call=Coalesce(Subquery(last_call), F("last_call_at")),
        threshold=Coalesce(
            Subquery(threshold, output_field=money), _money(settings.LOW_BALANCE_DEFAULT)
        ),
    )
    rows = rows.annotate(
        running_low=ExpressionWrapper(
            Q(balance__lt=F("threshold"))
            | Q(burn__gt=0, balance__lt=F("burn") * _money(LOW_DAYS_OF_BURN)),
            output_field=BooleanField(),
        )
    )
    if search:
        rows = rows.filter(Q(account__icontains=search) | Q(name__icontains=search))
    if show == "low":
        rows = rows.filter(running_low=True)
    elif show == "quiet":
        rows = rows.filter(Q(last_call__isnull=True) | Q(last_call__lt=now - QUIET_AFTER))
    elif show == "locked":
        rows = rows.filter(locked=True)
    return rows.order_by(*SORTS.get(sort, SORTS["account"]))


def reseller_ledger(*, agent: VosAccount) -> QuerySet[LedgerEntry]:
    """The reseller's customer-facing movements (top-ups and deductions), newest first."""
    return (
        LedgerEntry.objects.filter(
            server_id=agent.server_id,
            reseller_account=agent.account,
            kind__in=(LedgerEntry.Kind.TOPUP, LedgerEntry.Kind.DEDUCT, LedgerEntry.Kind.CARD),
        )
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
