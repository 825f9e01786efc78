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
from telephony.vos import VosError

from ..models import LedgerEntry
from .funds import Funds, debits_in_flight, funds_read
from .ledger import USER_MEMO_MAX, Kind, LedgerError, State, ledger_entry_for_key
from .transfers import transfer_advance


@dataclass(frozen=True)
class TopupRequest:
    customer: VosAccount
    amount: Decimal  # positive
    deduct: bool
    memo: str
    idempotency_key: str
    allow_negative: bool = False  # the reseller ticked "allow a negative balance"


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
    """Money moved today, top-ups and deductions together (applied, pending and unknown:
    anything that may become money); a deduction counts by its size."""
    start, end = _today_bounds(now or timezone.now())
    sums = LedgerEntry.objects.filter(
        server_id=agent.server_id,
        reseller_account=agent.account,
        kind__in=(Kind.TOPUP, Kind.DEDUCT),
        state__in=(State.APPLIED, State.PENDING, State.UNKNOWN),
        created_at__gte=start,
        created_at__lt=end,
    ).aggregate(
        given=Sum("amount", filter=Q(kind=Kind.TOPUP)),
        taken=Sum("amount", filter=Q(kind=Kind.DEDUCT)),
    )
    return (sums["given"] or Decimal("0")) - (sums["taken"] or Decimal("0"))


def topup_caps_check(*, profile: Profile, agent: VosAccount, amount: Decimal) -> None:
    """Per-transaction and per-day caps (both directions); LedgerError naming the amount."""
    if amount > profile.topup_cap_per_transaction:
        raise LedgerError(
            _("The most you can move in one transaction is %(cap)s.")
            % {"cap": format_money(profile.topup_cap_per_transaction)},
            field="amount",
        )
    used = reseller_day_total(agent=agent)
    if used + amount > profile.topup_cap_per_day:
        left = max(Decimal("0"), profile.topup_cap_per_day - used)
        raise LedgerError(
            _(
                "This is over your daily limit of %(cap)s for top-ups and deductions together: "
                "%(left)s is left today."
            )
            % {"cap": format_money(profile.topup_cap_per_day), "left": format_money(left)},
            field="amount",
        )


def deduction_check(
    *, profile: Profile, amount: Decimal, funds: Funds, in_flight: Decimal, allow_negative: bool
) -> Decimal:
    """The customer's balance after a deduction of ``amount``; LedgerError if it may not go.

    The balance may not fall below minus the overdraft limit, unless staff let this reseller
    allow a negative balance and the reseller ticked it. A prepaid reseller is credited what
    it takes, so it never takes more than the customer had available, whatever the ticks.
    """
    if allow_negative and not profile.allow_negative_balance:
        raise LedgerError(
            _("You may not take a customer below the overdraft limit."), field="allow_negative"
        )
    available = funds.available - in_flight
    after = funds.balance - in_flight - amount
    if profile.prepaid and amount > available:
        raise LedgerError(
            _(
                "The customer has %(available)s available; a prepaid reseller cannot take more "
                "than that."
            )
            % {"available": format_money(max(available, Decimal("0")))},
            field="amount",
        )
    if after < -funds.limit_money and not allow_negative:
        raise LedgerError(
            _(
                "This would leave the balance at %(after)s, below the overdraft limit of "
                "%(limit)s. You can deduct at most %(most)s."
            )
            % {
                "after": format_money(after),
                "limit": format_money(funds.limit_money),
                "most": format_money(max(available, Decimal("0"))),
            },
            field="amount",
        )
    return after


def topup_submit(*, actor: Actor, agent: VosAccount, movement: TopupRequest) -> LedgerEntry:
    """Top up (or deduct from) one of the reseller's customers; return the customer's row.

    ``agent`` is the reseller's own VOS account (the view finds it through accounts.scoping).
    A repeated submit with the same idempotency key returns the first submit's row and sends
    nothing. Refusals (caps, the customer's funds, the prepaid reseller's credit) raise
    LedgerError before anything is written or sent. VOS outcomes are recorded on the row, never
    raised: a Pay whose answer does not come within TOPUP_WAIT_SECONDS leaves the row unknown,
    confirmed in the background (billing.tasks.movement_confirm).
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
    # Read before the lock: no transaction is held open across a VOS call.
    funds = _live_funds(actor=actor, agent=agent, request=movement, prepaid=profile.prepaid)
    try:
        with transaction.atomic():
            _lock_profile(profile)
            if LedgerEntry.objects.filter(idempotency_key=movement.idempotency_key).exists():
                return ledger_entry_for_key(idempotency_key=movement.idempotency_key, user=user)
            profile.refresh_from_db()
            _refusals_check(profile=profile, agent=agent, request=movement, funds=funds)
            customer_row = _rows_create(
                actor=actor, agent=agent, request=movement, prepaid=profile.prepaid
            )
    except LedgerError as exc:
        # Audited after the rollback, or the refusal's own row would be rolled back with it.
        audit_log(
            actor=actor,
            action=f"{_kind(movement)}.refused",
            outcome="refused",
            server=agent.server,
            account=customer.account,
            amount=movement.amount,
            error=exc.message,
        )
        raise
    except IntegrityError:
        # The same key committed by a concurrent submit.
        existing = ledger_entry_for_key(idempotency_key=movement.idempotency_key, user=user)
        if existing is None:
            raise
        return existing
    transfer_advance(entry=customer_row, deadline=deadline)
    customer_row.refresh_from_db()
    return customer_row


def _live_funds(
    *, actor: Actor, agent: VosAccount, request: TopupRequest, prepaid: bool
) -> Funds | None:
    """What the check needs read now: the customer's funds before a deduction, a prepaid
    reseller's own before a top-up; None for a plain top-up. LedgerError if unreadable."""
    if request.deduct:
        account = request.customer
        message = _(
            "The customer's balance cannot be checked right now, so nothing was taken. "
            "Please try again in a minute."
        )
    elif prepaid:
        account = agent
        message = _(
            "Your own balance cannot be checked right now, so nothing was sent. "
            "Please try again in a minute."
        )
    else:
        return None
    try:
        return funds_read(account=account)
    except VosError as exc:
        audit_log(
            actor=actor,
            action=f"{_kind(request)}.refused",
            outcome="vos_unavailable",
            server=agent.server,
            account=request.customer.account,
            amount=request.amount,
            error=exc.message,
        )
        raise LedgerError(message) from exc


def _kind(request: TopupRequest) -> str:
    return Kind.DEDUCT if request.deduct else Kind.TOPUP


def _refusals_check(
    *,
    profile: Profile,
    agent: VosAccount,
    request: TopupRequest,
    funds: Funds | None,
) -> None:
    """Caps, the customer's funds and the prepaid reseller's credit, under the profile lock."""
    topup_caps_check(profile=profile, agent=agent, amount=request.amount)
    if request.deduct:
        in_flight = debits_in_flight(
            server=agent.server_id, account=request.customer.account, read_at=funds.read_at
        )
        deduction_check(
            profile=profile,
            amount=request.amount,
            funds=funds,
            in_flight=in_flight,
            allow_negative=request.allow_negative,
        )
    elif funds is not None:
        # The overdraft limit of the reseller's own account is not credit they hold.
        held = funds.balance - debits_in_flight(
            server=agent.server_id, account=agent.account, read_at=funds.read_at
        )
        if request.amount > held:
            raise LedgerError(
                _("You hold %(available)s; a top-up cannot be larger than that.")
                % {"available": format_money(max(held, Decimal("0")))},
                field="amount",
            )


@dataclass(frozen=True)
class Preview:
    """What the confirm step shows: the customer's balance before and after the movement."""

    balance_before: Decimal
    balance_after: Decimal
    limit_money: Decimal
    as_of: datetime | None
    live: bool


def topup_preview(*, profile: Profile, agent: VosAccount, movement: TopupRequest) -> Preview:
    """Caps and, for a deduction, the funds rule on the customer's figures read now (the
    mirror's when the switch does not answer; the submit reads again and refuses then)."""
    topup_caps_check(profile=profile, agent=agent, amount=movement.amount)
    customer = movement.customer
    try:
        funds = funds_read(account=customer)
        live = True
    except VosError:
        funds = Funds(
            balance=customer.balance,
            limit_money=customer.limit_money,
            read_at=customer.figures_as_of or timezone.now(),
        )
        live = False
    in_flight = debits_in_flight(
        server=customer.server_id, account=customer.account, read_at=funds.read_at
    )
    if movement.deduct:
        after = deduction_check(
            profile=profile,
            amount=movement.amount,
            funds=funds,
            in_flight=in_flight,
            allow_negative=movement.allow_negative,
        )
    else:
        after = funds.balance - in_flight + movement.amount
    return Preview(
        balance_before=funds.balance - in_flight,
        balance_after=after,
        limit_money=funds.limit_money,
        as_of=funds.read_at,
        live=live,
    )


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
