"""Cutting requests: accounts in chunks, days in windows, windows halved on -10033."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import TypeVar

from .errors import VosIntervalTooLong

R = TypeVar("R")


def chunked(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def day_windows(first: date, last: date, days: int) -> Iterator[tuple[date, date]]:
    """Inclusive windows of at most ``days`` days covering first..last."""
    current = first
    while current <= last:
        end = min(last, current + timedelta(days=days - 1))
        yield current, end
        current = end + timedelta(days=1)


def halved_on_too_long(
    first: date,
    last: date,
    days: int,
    ask: Callable[[date, date], R],
    *,
    learn: Callable[[int], None] | None = None,
) -> Iterator[tuple[date, date, R]]:
    """``(begin, end, ask(begin, end))`` over first..last, in windows of ``days`` days.

    A window VOS refuses with -10033 is split in halves (the first half takes the odd day);
    a refused one-day window is raised. Without ``learn`` only the refused window is split,
    the windows after it are asked as they were. With ``learn`` the first half's size is the
    installation's limit from then on: ``learn(size)`` is told, and every window still to ask
    is re-cut at that size (the windows stay consecutive).
    """
    pending = list(day_windows(first, last, days))
    while pending:
        begin, end = pending.pop(0)
        try:
            result = ask(begin, end)
        except VosIntervalTooLong:
            if begin == end:
                raise
            middle = begin + timedelta(days=(end - begin).days // 2)
            if learn is None:
                pending[:0] = [(begin, middle), (middle + timedelta(days=1), end)]
            else:
                size = (middle - begin).days + 1
                learn(size)
                pending = list(day_windows(begin, last, size))
            continue
        yield begin, end, result
