"""Money filters (``{{ amount|money }}`` -> "USD 1,234.50"); the formatter: telephony.money."""

from __future__ import annotations

from django import template

from telephony.money import EMPTY, format_amount, format_money

register = template.Library()


@register.filter(name="money")
def money(value, decimals=None) -> str:
    """``{{ amount|money }}``; ``{{ amount|money:4 }}`` with that many decimal places."""
    return format_money(value, decimals=None if decimals in (None, "") else int(decimals))


@register.filter(name="amount")
def amount(value) -> str:
    return format_amount(value)


@register.filter(name="duration")
def duration(seconds) -> str:
    """Seconds as H:MM:SS or M:SS."""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return EMPTY
    hours, rest = divmod(max(total, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
