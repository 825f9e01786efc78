"""Guessing calling cards: failures counted per user and per address, a lock-out, lifting it.

An attempt is *reserved* before the switch is asked (one conditional UPDATE per scope that
adds 1 only while the count is under the limit), so N concurrent submits can never make more
than the limit's worth of guesses. An attempt that turns out not to be a wrong guess (the
card was good, or the switch did not answer) is given back. Reaching the limit locks the
scope for ``CARD_LOCKOUT_SECONDS``; staff lift it in the admin (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.services.audit import Actor, audit_log

from ..models import CardThrottle

Scope = CardThrottle.Scope


def _limit() -> int:
    return getattr(settings, "CARD_MAX_FAILURES", 5)


def _window() -> timedelta:
    return timedelta(seconds=getattr(settings, "CARD_FAILURE_WINDOW_SECONDS", 3600))


def _lockout() -> timedelta:
    return timedelta(seconds=getattr(settings, "CARD_LOCKOUT_SECONDS", 3600))


@dataclass(frozen=True)
class CardLocked(Exception):
    """Too many failed card attempts; ``until`` is when the lock-out ends."""

    until: datetime


def _scopes(*, user_id: int, ip: str | None) -> list[tuple[str, str]]:
    scopes = [(Scope.USER, str(user_id))]
    if ip:
        scopes.append((Scope.ADDRESS, ip))
    return scopes


def _row(scope: str, key: str, now: datetime) -> CardThrottle:
    try:
        with transaction.atomic():
            row, _ = CardThrottle.objects.get_or_create(
                scope=scope, key=key, defaults={"window_started_at": now}
            )
    except IntegrityError:  # created by a concurrent attempt
        row = CardThrottle.objects.get(scope=scope, key=key)
    # A window that has passed (and no lock-out running) starts again from nothing.
    CardThrottle.objects.filter(pk=row.pk, window_started_at__lt=now - _window()).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    ).update(failures=0, window_started_at=now, locked_until=None)
    CardThrottle.objects.filter(pk=row.pk, locked_until__lte=now).update(
        failures=0, window_started_at=now, locked_until=None
    )
    return row


def card_attempt_reserve(*, user_id: int, ip: str | None, now: datetime | None = None) -> None:
    """Count one attempt in every scope, or raise CardLocked (nothing counted then)."""
    now = now or timezone.now()
    reserved: list[int] = []
    for scope, key in _scopes(user_id=user_id, ip=ip):
        row = _row(scope, key, now)
        moved = (
            CardThrottle.objects.filter(pk=row.pk, failures__lt=_limit())
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .update(failures=F("failures") + 1)
        )
        if not moved:
            _give_back(reserved)
            row.refresh_from_db()
            raise CardLocked(until=row.locked_until or now + _lockout())
        reserved.append(row.pk)


def _give_back(pks: list[int]) -> None:
    CardThrottle.objects.filter(pk__in=pks, failures__gt=0).update(failures=F("failures") - 1)


def card_attempt_release(*, user_id: int, ip: str | None) -> None:
    """The reserved attempt was no wrong guess: give it back."""
    pks = [
        row.pk
        for scope, key in _scopes(user_id=user_id, ip=ip)
        if (row := CardThrottle.objects.filter(scope=scope, key=key).first())
    ]
    _give_back(pks)


def card_attempt_failed(*, user_id: int, ip: str | None, now: datetime | None = None) -> None:
    """The reserved attempt was a wrong guess: keep it, and lock a scope that reached the limit."""
    now = now or timezone.now()
    for scope, key in _scopes(user_id=user_id, ip=ip):
        CardThrottle.objects.filter(scope=scope, key=key).update(last_failure_at=now)
        CardThrottle.objects.filter(
            scope=scope, key=key, failures__gte=_limit(), locked_until__isnull=True
        ).update(locked_until=now + _lockout())


def card_throttle_lift(*, actor: Actor, throttle_ids: list[int]) -> int:
    """Staff lift lock-outs (and forget the failures); audited per row."""
    lifted = 0
    for row in CardThrottle.objects.filter(pk__in=throttle_ids):
        CardThrottle.objects.filter(pk=row.pk).update(
            failures=0, locked_until=None, window_started_at=timezone.now()
        )
        audit_log(
            actor=actor,
            action="card.throttle_lift",
            outcome="ok",
            scope=row.scope,
            key=row.key,
            failures=row.failures,
        )
        lifted += 1
    return lifted
