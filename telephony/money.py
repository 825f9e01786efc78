"""The one money formatter: pages, e-mails, CSV files and receipts all use it.

Amounts are rounded half-up to settings.PORTAL_AMOUNT_DECIMALS; thousands are grouped the way
the active language does it; a negative amount keeps its sign in front. The template filters
(``{{ amount|money }}`` -> "USD 1,234.50", ``{{ amount|amount }}``) are in
portal/templatetags/money.py.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils import numberformat
from django.utils.formats import get_format

EMPTY = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _grouping() -> tuple[str, object]:
    """The active language's thousands separator and grouping. Some locales (Simplified
    Chinese in Django's data) define no grouping; amounts of money are still easier to read
    in groups of three."""
    separator = get_format("THOUSAND_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    if not separator or not grouping:
        return ",", 3
    return separator, grouping


def format_amount(value, *, decimals: int | None = None) -> str:
    """The number alone, grouped and rounded for display ("-1,234.50")."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    places = settings.PORTAL_AMOUNT_DECIMALS if decimals is None else decimals
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # never show "-0.00"
    separator, grouping = _grouping()
    return numberformat.format(
        number,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=places,
        grouping=grouping,
        thousand_sep=separator,
        force_grouping=True,
        use_l10n=True,
    )


def _with_currency(text: str, currency: str | None) -> str:
    if text == EMPTY:
        return text
    currency = settings.PORTAL_CURRENCY if currency is None else currency
    if not currency:
        return text
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    # A symbol ("$", "¥") sits against the digits; a code ("USD") is spaced.
    joiner = " " if currency[-1].isalpha() else ""
    return f"{sign}{currency}{joiner}{digits}"


def format_money(value, *, currency: str | None = None, decimals: int | None = None) -> str:
    """The amount with the operator's currency: "USD 1,234.50", "-USD 3.00", "$1.00"."""
    return _with_currency(format_amount(value, decimals=decimals), currency)


# The switch keeps amounts to four decimal places (VOS money, fees).
SWITCH_DECIMALS = 4


def places_adding_up(*terms: Decimal, total: Decimal) -> int:
    """The fewest decimal places, from PORTAL_AMOUNT_DECIMALS up to the switch's four, at
    which ``terms`` (signed) rounded for display add up to ``total`` rounded: a statement's
    figures add up as printed, not only as stored. A portal showing more than four places
    keeps its own."""
    usual = settings.PORTAL_AMOUNT_DECIMALS
    for places in range(usual, SWITCH_DECIMALS):
        quantum = Decimal(1).scaleb(-places)
        shown = sum((t.quantize(quantum, rounding=ROUND_HALF_UP) for t in terms), Decimal(0))
        if shown == total.quantize(quantum, rounding=ROUND_HALF_UP):
            return places
    return max(usual, SWITCH_DECIMALS)


def money_formatter() -> Callable[[object], str]:
    """``format_money`` with the active language's separators looked up once: for a page
    that formats many amounts (a table of calls). The same text as ``format_money``."""
    separator, grouping = _grouping()
    if grouping != 3:
        return format_money  # other groupings (e.g. 3 then 2): Django's general formatter
    places = settings.PORTAL_AMOUNT_DECIMALS
    quantum = Decimal(1).scaleb(-places)
    marks = str.maketrans({",": separator, ".": get_format("DECIMAL_SEPARATOR")})

    def money(value) -> str:
        number = _decimal(value)
        if number is None:
            return EMPTY
        number = number.quantize(quantum, rounding=ROUND_HALF_UP)
        if number == 0:
            number = abs(number)
        return _with_currency(f"{number:,.{places}f}".translate(marks), None)

    return money
