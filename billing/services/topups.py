"""Top-ups and deductions a reseller gives their customers: caps, prepaid legs, the submit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from time import monotonic

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Profile
from accounts.services.audit import Actor, audit_log
from telephony.models import VosAccount
from telephony.money import format_money
from telephony.services.mirror import account_apply
from telephony.vos import VosError, page_client_for

from ..models import LedgerEntry
from .ledger import OPEN_STATES, USER_MEMO_MAX, Kind, LedgerError, State, ledger_entry_for_key
from .transfers import transfer_advance


@dataclass(frozen=True)
class TopupRequest:
    customer: VosAccount
    amount: Decimal  # positive
    deduct: bool
    memo: str
    idempotency_key: str


def _lock_profile(profile: Profile) -> None:
    """Serialize a reseller's submissions (caps and credit are checked under this lock)."""
    if connection.vendor == "sqlite":
        # SQLite has no row locks; a write takes the database write lock for the transaction.
        Profile.objects.filter(pk=profile.pk).update(prepaid=F("prepaid"))
    else:
        Profile.objects.select_for_update().get(pk=profile.pk)


def _today_bounds(now: datetime) -> tuple[datetime, datetime]:
    # Caps count days of the portal's time zone (TIME_ZONE), whoever is looking.
    today = timezone.localdate(now, timezone.get_default_timezone())
    start = timezone.make_aware(datetime.combine(today, time.min), timezone.get_default_timezone())
    return start, start + timedelta(days=1)


def reseller_day_total(*, agent: VosAccount, now: datetime | None = None) -> Decimal:
    """Top-ups given today (applied, pending and unknown: anything that may become money)."""
    start, end = _today_bounds(now or timezone.now())
    total = LedgerEntry.objects.filter(
        server_id=agent.server_id,
        reseller_account=agent.account,
        kind=Kind.TOPUP,
        state__in=(State.APPLIED, State.PENDING, State.UNKNOWN),
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _reseller_in_flight(*, agent: VosAccount, read_at: datetime) -> Decimal:
    """Debits of the reseller's own account that a balance read at ``read_at`` may not show.

    Open rows, and rows applied since the read. A debit counted twice only makes the check
    stricter, never looser.
    """
    total = LedgerEntry.objects.filter(
        Q(state__in=OPEN_STATES) | Q(state=State.APPLIED, settled_at__gte=read_at),
        server_id=agent.server_id,
        account=agent.account,
        amount__lt=0,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal("0"))


def topup_caps_check(*, profile: Profile, agent: VosAccount, amount: Decimal, deduct: bool) -> None:
    """Per-transaction and per-day caps; LedgerError naming the amount field."""
    if amount > profile.topup_cap_per_transaction:
        raise LedgerError(
            _("The most you can move in one transaction is %(cap)s.")
            % {"cap": format_money(profile.topup_cap_per_transaction)},
            field="amount",
        )
    if deduct:
        return
    used = reseller_day_total(agent=agent)
    if used + amount > profile.topup_cap_per_day:
        left = max(Decimal("0"), profile.topup_cap_per_day - used)
        raise LedgerError(
            _("This is over your daily top-up limit of %(cap)s: %(left)s is left today.")
            % {"cap": format_money(profile.topup_cap_per_day), "left": format_money(left)},
            field="amount",
        )


def topup_submit(*, actor: Actor, agent: VosAccount, movement: TopupRequest) -> LedgerEntry:
    """Top up (or deduct from) one of the reseller's customers; return the customer's row.

    ``agent`` is the reseller's own VOS account (the view finds it through accounts.scoping).
    A repeated submit with the same idempotency key returns the first submit's row and sends
    nothing. Refusals (caps, the prepaid reseller's credit) raise LedgerError before anything
    is written or sent. VOS outcomes are recorded on the row, never raised: a Pay whose answer
    does not come within TOPUP_WAIT_SECONDS leaves the row unknown, confirmed in the
    background (billing.tasks.movement_confirm).
    """
    user = actor.user
    existing = ledger_entry_for_key(idempotency_key=movement.idempotency_key, user=user)
    if existing is not None:
        return existing
    customer = movement.customer
    if customer.server_id != agent.server_id or customer.agent_account != agent.account:
        raise LedgerError(_("No customer with this account."), field="account")
    if movement.amount <= 0:
        raise LedgerError(_("Enter an amount greater than zero."), field="amount")
    deadline = monotonic() + settings.TOPUP_WAIT_SECONDS
    profile: Profile = user.profile
    credit = None
    if profile.prepaid and not movement.deduct:
        credit = _own_credit(actor=actor, agent=agent, request=movement)
    try:
        with transaction.atomic():
            _lock_profile(profile)
            if LedgerEntry.objects.filter(idempotency_key=movement.idempotency_key).exists():
                return ledger_entry_for_key(idempotency_key=movement.idempotency_key, user=user)
            profile.refresh_from_db()
            _refusals_check(
                actor=actor, profile=profile, agent=agent, request=movement, credit=credit
            )
            customer_row = _rows_create(
                actor=actor, agent=agent, request=movement, prepaid=profile.prepaid
            )
    except IntegrityError:
        # The same key committed by a concurrent submit.
        existing = ledger_entry_for_key(idempotency_key=movement.idempotency_key, user=user)
        if existing is None:
            raise
        return existing
    transfer_advance(entry=customer_row, deadline=deadline)
    customer_row.refresh_from_db()
    return customer_row


@dataclass(frozen=True)
class _Credit:
    money: Decimal
    read_at: datetime


def _own_credit(*, actor: Actor, agent: VosAccount, request: TopupRequest) -> _Credit:
    """A prepaid reseller's own balance, read now (page timeout); LedgerError if unreadable."""
    read_at = timezone.now()
    try:
        own = page_client_for(agent.server).get_customer(agent.account)
    except VosError as exc:
        audit_log(
            actor=actor,
            action="topup.refused",
            outcome="vos_unavailable",
            server=agent.server,
            account=request.customer.account,
            amount=request.amount,
            error=exc.message,
        )
        raise LedgerError(
            _(
                "Your own balance cannot be checked right now, so nothing was sent. "
                "Please try again in a minute."
            )
        ) from exc
    account_apply(server=agent.server, customer=own, read_at=read_at)
    return _Credit(money=own.money, read_at=read_at)


def _refusals_check(
    *,
    actor: Actor,
    profile: Profile,
    agent: VosAccount,
    request: TopupRequest,
    credit: _Credit | None,
) -> None:
    """Caps and the prepaid reseller's credit, under the profile lock; audited refusals."""
    kind = Kind.DEDUCT if request.deduct else Kind.TOPUP
    try:
        topup_caps_check(profile=profile, agent=agent, amount=request.amount, deduct=request.deduct)
        if credit is not None:
            available = credit.money - _reseller_in_flight(agent=agent, read_at=credit.read_at)
            if request.amount > available:
                raise LedgerError(
                    _("You hold %(available)s; a top-up cannot be larger than that.")
                    % {"available": format_money(max(available, Decimal("0")))},
                    field="amount",
                )
    except LedgerError as exc:
        audit_log(
            actor=actor,
            action=f"{kind}.refused",
            outcome="refused",
            server=agent.server,
            account=request.customer.account,
            amount=request.amount,
            error=exc.message,
        )
        raise


def _rows_create(
    *, actor: Actor, agent: VosAccount, request: TopupRequest, prepaid: bool
) -> LedgerEntry:
    """The movement's ledger rows (one, or a prepaid transfer's two legs); the customer's."""
    kind = Kind.DEDUCT if request.deduct else Kind.TOPUP
    signed = -request.amount if request.deduct else request.amount
    key = request.idempotency_key
    common = {
        "server": agent.server,
        "reseller_account": agent.account,
        "memo": request.memo[:USER_MEMO_MAX],
        "created_by": actor.user,
        "created_ip": actor.ip,
    }
    customer_row = LedgerEntry(
        account=request.customer.account, amount=signed, kind=kind, idempotency_key=key, **common
    )
    if prepaid and not request.deduct:
        # Take the reseller's money first, then give it to the customer.
        customer_row.parent = LedgerEntry.objects.create(
            account=agent.account,
            amount=-request.amount,
            kind=Kind.RESELLER_DEBIT,
            idempotency_key=f"{key}:leg1",
            **common,
        )
    customer_row.save()
    if prepaid and request.deduct:
        LedgerEntry.objects.create(
            account=agent.account,
            amount=request.amount,
            kind=Kind.RESELLER_CREDIT,
            idempotency_key=f"{key}:leg2",
            parent=customer_row,
            **common,
        )
    audit_log(
        actor=actor,
        action=f"{kind}.requested",
        outcome="pending",
        server=agent.server,
        account=request.customer.account,
        ledger_id=customer_row.pk,
        amount=signed,
        prepaid=prepaid,
    )
    return customer_row
