"""Calling-card (voucher) top-ups: PayByPhoneCard through the ledger (docs/MONEY.md, "Cards").

1. The card is checked first (GetPhoneCard with its password, bounded like a page read):
   an unknown, used or expired card or a wrong password is refused next to the field, and
   counts as a failed guess; nothing is written.
2. The ledger row (kind ``card``, amount = the card's face value, ``card_pin``) is committed
   before PayByPhoneCard is sent. At most one row per card that is not failed (a unique
   constraint), and the form's idempotency key makes a double submit the same row.
3. The row is sent at most once (claimed by a conditional UPDATE); the password exists only
   in this request. The answer's ``payMoney`` is what the switch applied and becomes the
   row's amount. A lost answer leaves the row unknown: it is reconciled from the pay
   history (pay type 2, the ``portal#<id>`` memo) or GetPhoneCard (used by this account),
   never resent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from time import monotonic

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.audit import Actor, audit_log
from telephony.models import VosAccount
from telephony.vos import (
    RET_CARD_EXPIRED,
    RET_CARD_PASSWORD,
    RET_CARD_USED,
    PayOutcomeUnknown,
    PayResult,
    PhoneCard,
    VosNotFound,
    VosRejected,
    VosUnavailable,
    page_client_for,
)

from ..models import LedgerEntry
from .card_throttle import (
    CardLocked,
    card_attempt_failed,
    card_attempt_release,
    card_attempt_reserve,
)
from .ledger import (
    Kind,
    LedgerError,
    State,
    bounded_client,
    has_time,
    ledger_entry_for_key,
    ledger_vos_memo,
    mirror_balance,
    settle,
)
from .reconcile import ledger_reconcile

log = logging.getLogger(__name__)


class CardRefused(LedgerError):
    """A card refused before anything was sent; ``field`` is the form field to show it at."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CardRedemption:
    customer: VosAccount
    pin: str
    password: str
    idempotency_key: str


def _refusal(exc: VosRejected) -> CardRefused:
    if isinstance(exc, VosNotFound):
        return CardRefused(_("There is no card with this number."), field="pin")
    if exc.ret_code == RET_CARD_PASSWORD:
        return CardRefused(_("The card's password is wrong."), field="password")
    if exc.ret_code == RET_CARD_USED:
        return CardRefused(_("This card has already been used."), field="pin")
    if exc.ret_code == RET_CARD_EXPIRED:
        return CardRefused(_("This card has expired."), field="pin")
    return CardRefused(_("The switch refused the card: %(reason)s") % {"reason": exc.message})


def _card_check(*, customer: VosAccount, pin: str, password: str) -> PhoneCard:
    """GetPhoneCard with the password; raises CardRefused (a wrong guess) or VosUnavailable."""
    try:
        card = page_client_for(customer.server).get_phone_card(pin=pin, password=password)
    except VosRejected as exc:
        raise _refusal(exc) from exc
    if card.used:
        raise CardRefused(_("This card has already been used."), field="pin")
    if card.expire_time is not None and card.expire_time <= timezone.now():
        raise CardRefused(_("This card has expired."), field="pin")
    if card.money <= 0:
        raise CardRefused(_("This card holds no money."), field="pin")
    return card


def _checked(*, actor: Actor, redemption: CardRedemption) -> PhoneCard:
    """The card, checked under the guessing throttle."""
    user_id = actor.user.pk
    try:
        card_attempt_reserve(user_id=user_id, ip=actor.ip)
    except CardLocked as exc:
        until = timezone.localtime(exc.until).strftime("%Y-%m-%d %H:%M")
        raise CardRefused(
            _(
                "Too many wrong card numbers or passwords. Card top-ups are locked for you "
                "until %(time)s; support can lift this sooner."
            )
            % {"time": until}
        ) from exc
    try:
        card = _card_check(
            customer=redemption.customer, pin=redemption.pin, password=redemption.password
        )
    except CardRefused:
        card_attempt_failed(user_id=user_id, ip=actor.ip)
        raise
    except VosUnavailable as exc:
        card_attempt_release(user_id=user_id, ip=actor.ip)
        raise CardRefused(
            _("The switch did not answer. Nothing was charged to the card; please try again.")
        ) from exc
    card_attempt_release(user_id=user_id, ip=actor.ip)
    return card


def card_submit(*, actor: Actor, redemption: CardRedemption) -> LedgerEntry:
    """Redeem a card onto the customer's account; the row (applied, failed or unknown).

    Raises CardRefused when nothing was written. Waits at most ``TOPUP_WAIT_SECONDS``.
    """
    deadline = monotonic() + settings.TOPUP_WAIT_SECONDS
    existing = ledger_entry_for_key(idempotency_key=redemption.idempotency_key, user=actor.user)
    if existing is not None:
        return existing
    customer = redemption.customer
    card = _checked(actor=actor, redemption=redemption)
    entry = _row_create(actor=actor, redemption=redemption, card=card)
    if entry.sent_at is None and entry.created_by_id == actor.user.pk:
        card_send(entry=entry, password=redemption.password, deadline=deadline)
    audit_log(
        actor=actor,
        action="card.requested",
        outcome=entry.state,
        server=customer.server,
        account=customer.account,
        ledger_id=entry.pk,
        amount=entry.amount,
        card=entry.card_pin_masked,
    )
    return entry


def _row_create(*, actor: Actor, redemption: CardRedemption, card: PhoneCard) -> LedgerEntry:
    customer = redemption.customer
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                server=customer.server,
                account=customer.account,
                amount=card.money,
                kind=Kind.CARD,
                idempotency_key=redemption.idempotency_key,
                reseller_account=customer.agent_account,
                card_pin=redemption.pin,
                created_by=actor.user,
                created_ip=actor.ip,
            )
    except IntegrityError:
        pass
    # The same form submitted twice at once: its row. Another open row of this card: refused.
    existing = ledger_entry_for_key(idempotency_key=redemption.idempotency_key, user=actor.user)
    if existing is not None:
        return existing
    raise CardRefused(_("This card is already being redeemed."), field="pin")


def card_send(*, entry: LedgerEntry, password: str, deadline: float | None) -> LedgerEntry:
    """Send one pending card row's PayByPhoneCard, at most once in the row's life."""
    now = timezone.now()
    claimed = LedgerEntry.objects.filter(
        pk=entry.pk, kind=Kind.CARD, state=State.PENDING, sent_at__isnull=True
    ).update(sent_at=now, attempts=F("attempts") + 1)
    if not claimed:
        entry.refresh_from_db()
        return entry
    entry.sent_at = now
    try:
        result: PayResult = bounded_client(entry.server, deadline).pay_by_phone_card(
            account=entry.account,
            pin=entry.card_pin,
            password=password,
            memo=ledger_vos_memo(entry=entry),
        )
    except VosRejected as exc:
        settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    except PayOutcomeUnknown as exc:
        settle(entry, State.UNKNOWN, from_states=[State.PENDING], error=exc.message)
        if has_time(deadline):
            ledger_reconcile(entries=[entry], deadline=deadline)
            entry.refresh_from_db()
    except VosUnavailable as exc:  # never reached the switch
        settle(entry, State.FAILED, from_states=[State.PENDING], error=exc.message)
    except Exception as exc:  # the card may have been used: never a 500, never resent
        log.exception("ledger #%s: unexpected error after sending a card", entry.pk)
        settle(entry, State.UNKNOWN, from_states=[State.PENDING], error=type(exc).__name__)
    else:
        _applied(entry, result, now)
    return entry


def _applied(entry: LedgerEntry, result: PayResult, now) -> None:
    if result.pay_money != entry.amount:
        # What the customer sees is what the switch applied, not the face value we read.
        log.warning(
            "ledger #%s: card paid %s, GetPhoneCard said %s",
            entry.pk,
            result.pay_money,
            entry.amount,
        )
        LedgerEntry.objects.filter(pk=entry.pk, state=State.PENDING).update(amount=result.pay_money)
        entry.amount = result.pay_money
    if settle(
        entry, State.APPLIED, from_states=[State.PENDING], balance_after=result.balance_after
    ):
        mirror_balance(entry=entry, balance=result.balance_after, read_at=now)
