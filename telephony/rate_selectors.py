"""Reads of the rate-table mirror: longest-prefix match, search, the whole table."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .countries import calling_code, region_of, regions_named
from .models import FeeRate, FeeRateTable, VosServer

MAX_NUMBER = 32
SEARCH_LIMIT = 200


def rate_table(*, server: VosServer | int, group: str) -> FeeRateTable | None:
    return FeeRateTable.objects.filter(server=server, group=group).first()


def rate_for_number(*, table: FeeRateTable, number: str) -> FeeRate | None:
    """The rate the switch bills ``number`` at: the longest prefix that starts it."""
    digits = number.lstrip("+")[:MAX_NUMBER]
    if not digits.isdigit():
        return None
    heads = [digits[:n] for n in range(1, len(digits) + 1)]
    rates = list(FeeRate.objects.filter(table=table, prefix__in=heads))
    return max(rates, key=lambda r: len(r.prefix), default=None)


def rates_of(*, table: FeeRateTable) -> QuerySet[FeeRate]:
    return FeeRate.objects.filter(table=table).order_by("prefix")


def rates_search(*, table: FeeRateTable, query: str, language: str) -> list[FeeRate]:
    """Digits: the billed rate and the longer prefixes under them. Text: area names and
    countries (named in the user's language or English)."""
    query = query.strip()[:64]
    digits = query.lstrip("+").replace(" ", "")
    if digits.isdigit():
        best = rate_for_number(table=table, number=digits)
        under = list(rates_of(table=table).filter(prefix__startswith=digits)[:SEARCH_LIMIT])
        return ([best] if best and best not in under else []) + under
    regions = regions_named(query, language)
    codes = {code for region in regions if (code := calling_code(region))}
    condition = Q(area_name__icontains=query)
    for code in codes:
        condition |= Q(prefix__startswith=code)
    found = []
    for rate in rates_of(table=table).filter(condition)[: SEARCH_LIMIT * 5]:
        if query.casefold() in rate.area_name.casefold() or region_of(rate.prefix) in regions:
            found.append(rate)
        if len(found) >= SEARCH_LIMIT:
            break
    return found
