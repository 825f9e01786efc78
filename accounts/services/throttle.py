"""Attempt counters in the cache, taken atomically *before* the work they guard.

Check-then-act (read the count, do the work, then count it) lets every request that arrives
while the first ones are still working through: 24 at once against a limit of 5 did 6-8
checks. Here each attempt first takes a slot with one atomic ``incr`` (Redis INCR in
production); only a request whose slot is within the limit goes on, and the caller gives the
slot back when the attempt must not count (an outage, a success).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.cache import cache
from django.db import connection


def _key(key: str) -> str:
    # Per database too: test runs or portals sharing one Redis never count for each other.
    return f"throttle:{connection.settings_dict['NAME']}:{key}"


def _incr(key: str, window: int) -> int:
    # add() starts the fixed window (and its expiry) at the first attempt; incr() keeps it.
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: a new window
        cache.add(key, 0, window)
        return cache.incr(key)


def attempt_take(keys: Sequence[str], *, limit: int, window: int) -> bool:
    """Take one attempt on every key; False (and nothing taken) when any is over ``limit``."""
    taken = []
    for key in keys:
        full = _key(key)
        count = _incr(full, window)
        taken.append(full)
        if count > limit:
            _decr(taken)
            return False
    return True


def attempt_release(keys: Sequence[str]) -> None:
    """Give back an attempt taken by ``attempt_take`` that must not count."""
    _decr([_key(key) for key in keys])


def attempts_reset(keys: Sequence[str]) -> None:
    """Forget every attempt on these keys (a successful login)."""
    cache.delete_many([_key(key) for key in keys])


def attempts_count(key: str) -> int:
    return cache.get(_key(key)) or 0


def _decr(full_keys: Sequence[str]) -> None:
    for key in full_keys:
        try:
            if cache.decr(key) < 0:
                cache.delete(key)
        except ValueError:  # expired meanwhile: nothing left to give back
            pass
