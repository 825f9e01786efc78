"""Fee rate tables (manual 2.39 GetFeeRateGroup, 2.43 GetFeeRate) and what a call may cost.

A rate is an InfoFeeRate in the manual's field order. ``fee`` is the price of 60 seconds,
charged in steps of ``period`` seconds, as in the call model (calls.py); a section
(``infoFeeRateSections``) charges a flat ``fee`` for its first ``time`` seconds, in
``position`` order, before the ordinary rate applies. The demo's groups are built from one
catalogue of realistic prefixes; ``retail-std`` prices the call model's destinations exactly
as the CDRs do, so GetAvailableTime agrees with what calls really cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from .calls import DESTINATIONS

NET, LOCAL, DOMESTIC, INTERNATIONAL = 1, 2, 4, 5
_FOUR_PLACES = Decimal("0.0001")
MAX_SECONDS = 2_147_483_647  # timeRemain is a Java Integer


class Area(NamedTuple):
    prefix: str
    name: str
    type: int
    fee: str  # retail price of 60 s
    period: int = 6
    locked: bool = False


def _areas(kind: int, fee: str, period: int, entries: Iterable[tuple[str, str]]) -> list[Area]:
    return [Area(prefix, name, kind, fee, period) for prefix, name in entries]


_CN_CITIES = (
    ("8610", "Beijing"), ("8620", "Guangzhou"), ("8621", "Shanghai"), ("8622", "Tianjin"),
    ("8623", "Chongqing"), ("8624", "Shenyang"), ("8625", "Nanjing"), ("8627", "Wuhan"),
    ("8628", "Chengdu"), ("8629", "Xi'an"), ("86571", "Hangzhou"), ("86591", "Fuzhou"),
    ("86592", "Xiamen"), ("86731", "Changsha"), ("86769", "Dongguan"), ("86757", "Foshan"),
    ("86760", "Zhongshan"), ("86756", "Zhuhai"), ("86898", "Haikou"), ("86871", "Kunming"),
    ("86851", "Guiyang"), ("86531", "Jinan"), ("86532", "Qingdao"), ("86411", "Dalian"),
    ("86451", "Harbin"), ("86431", "Changchun"), ("86371", "Zhengzhou"),
    ("86311", "Shijiazhuang"), ("86351", "Taiyuan"), ("86991", "Urumqi"),
)  # fmt: skip
_CN_MOBILE = [f"86{n}" for n in (*range(130, 140), *range(150, 160), 170, 171, 173, 176, 177,
                                 178, *range(180, 190), 191, 198, 199) if n != 154]  # fmt: skip
_INTERNATIONAL = (
    # (prefix, area name, fee of 60 s)
    ("852", "Hong Kong", "0.0900"), ("8525", "Hong Kong mobile", "0.0900"),
    ("8526", "Hong Kong mobile", "0.0900"), ("8529", "Hong Kong mobile", "0.0900"),
    ("853", "Macau", "0.1200"), ("886", "Taiwan", "0.0800"), ("8869", "Taiwan mobile", "0.1200"),
    ("1", "USA/Canada", "0.0300"), ("1212", "USA New York", "0.0300"),
    ("1310", "USA Los Angeles", "0.0300"), ("1415", "USA San Francisco", "0.0300"),
    ("1416", "Canada Toronto", "0.0300"), ("1604", "Canada Vancouver", "0.0300"),
    ("1808", "USA Hawaii", "0.0500"), ("1907", "USA Alaska", "0.0800"),
    ("1876", "Jamaica", "0.2500"), ("1809", "Dominican Republic", "0.1800"),
    ("44", "United Kingdom", "0.0800"), ("441", "UK geographic", "0.0800"),
    ("4420", "UK London", "0.0800"), ("447", "UK mobile", "0.1800"),
    ("4474", "UK mobile", "0.1800"), ("4475", "UK mobile", "0.1800"),
    ("4477", "UK mobile", "0.1800"), ("4478", "UK mobile", "0.1800"),
    ("4479", "UK mobile", "0.1800"), ("4470", "UK personal numbers", "0.3500"),
    ("49", "Germany", "0.0600"), ("4930", "Germany Berlin", "0.0600"),
    ("4989", "Germany Munich", "0.0600"), ("4915", "Germany mobile", "0.2500"),
    ("4916", "Germany mobile", "0.2500"), ("4917", "Germany mobile", "0.2500"),
    ("33", "France", "0.0600"), ("336", "France mobile", "0.2000"),
    ("337", "France mobile", "0.2000"), ("39", "Italy", "0.0700"),
    ("393", "Italy mobile", "0.2200"), ("34", "Spain", "0.0600"),
    ("346", "Spain mobile", "0.1500"), ("31", "Netherlands", "0.0800"),
    ("316", "Netherlands mobile", "0.2500"), ("7", "Russia", "0.1000"),
    ("79", "Russia mobile", "0.1200"), ("91", "India", "0.0600"),
    ("9111", "India Delhi", "0.0500"), ("9122", "India Mumbai", "0.0500"),
    ("9180", "India Bangalore", "0.0500"), ("917", "India mobile", "0.0500"),
    ("918", "India mobile", "0.0500"), ("919", "India mobile", "0.0500"),
    ("977", "Nepal", "0.1800"), ("9771", "Nepal Kathmandu", "0.1500"),
    ("97797", "Nepal mobile Ncell", "0.2100"), ("97798", "Nepal mobile NTC", "0.2000"),
    ("880", "Bangladesh", "0.0400"), ("8801", "Bangladesh mobile", "0.0450"),
    ("92", "Pakistan", "0.0700"), ("923", "Pakistan mobile", "0.0900"),
    ("94", "Sri Lanka", "0.1200"), ("947", "Sri Lanka mobile", "0.1400"),
    ("63", "Philippines", "0.1200"), ("639", "Philippines mobile", "0.1600"),
    ("62", "Indonesia", "0.0600"), ("628", "Indonesia mobile", "0.0800"),
    ("84", "Vietnam", "0.0700"), ("843", "Vietnam mobile", "0.0800"),
    ("849", "Vietnam mobile", "0.0800"), ("60", "Malaysia", "0.0300"),
    ("601", "Malaysia mobile", "0.0500"), ("65", "Singapore", "0.0200"),
    ("66", "Thailand", "0.0400"), ("668", "Thailand mobile", "0.0500"),
    ("81", "Japan", "0.0600"), ("8170", "Japan mobile", "0.1200"),
    ("8180", "Japan mobile", "0.1200"), ("8190", "Japan mobile", "0.1200"),
    ("82", "South Korea", "0.0400"), ("8210", "South Korea mobile", "0.0600"),
    ("61", "Australia", "0.0400"), ("614", "Australia mobile", "0.1000"),
    ("64", "New Zealand", "0.0600"), ("642", "New Zealand mobile", "0.1500"),
    ("971", "UAE", "0.1500"), ("9715", "UAE mobile", "0.1800"),
    ("966", "Saudi Arabia", "0.1600"), ("9665", "Saudi Arabia mobile", "0.1800"),
    ("55", "Brazil", "0.0400"), ("5511", "Brazil Sao Paulo", "0.0300"),
    ("52", "Mexico", "0.0400"), ("234", "Nigeria", "0.1200"),
    ("2348", "Nigeria mobile", "0.1500"), ("254", "Kenya", "0.1200"),
    ("27", "South Africa", "0.0600"), ("278", "South Africa mobile", "0.1200"),
    ("20", "Egypt", "0.1200"), ("201", "Egypt mobile", "0.1500"),
)  # fmt: skip
_DESTINATION_AREAS = [  # the call model's destinations, priced as its CDRs are
    Area(d.prefix, d.name, d.level, str(d.rate), d.increment) for d in DESTINATIONS
]
CATALOGUE: tuple[Area, ...] = tuple(
    {
        a.prefix: a
        for a in (
            *_areas(DOMESTIC, "0.0450", 60, _CN_CITIES),
            *_areas(DOMESTIC, "0.0500", 60, ((p, "China mobile") for p in _CN_MOBILE)),
            Area("86", "China", DOMESTIC, "0.0500", 60),
            *(Area(p, n, INTERNATIONAL, f) for p, n, f in _INTERNATIONAL),
            Area("881", "Satellite (Iridium)", INTERNATIONAL, "3.0000", 60, locked=True),
            Area("882", "International Networks", INTERNATIONAL, "2.5000", 60, locked=True),
            *_DESTINATION_AREAS,  # last: they win over the catalogue's price of the prefix
        )
    }.values()
)
# A flat charge for the first seconds of a few expensive destinations (retail only).
_SECTIONS = {
    "9771": [{"fee": Decimal("0.3000"), "time": 60, "position": 1}],
    "1876": [
        {"fee": Decimal("0.2000"), "time": 30, "position": 1},
        {"fee": Decimal("0.1000"), "time": 30, "position": 2},
    ],
}
# name -> (memo, price factor, destination prices kept as in the call model)
DEMO_GROUPS = {
    "retail-std": ("Retail standard", Decimal("1"), True),
    "wholesale": ("Wholesale, 30 % off retail", Decimal("0.7"), False),
    "深圳标准": ("深圳本地优惠", Decimal("0.9"), False),
    "agent-cost": ("Agent cost", Decimal("0.6"), False),
}


def fee_rate(area: Area, fee: Decimal, sections: list[dict[str, Any]] | None = None) -> dict:
    """An InfoFeeRate, fields in the manual's order."""
    return {
        "feePrefix": area.prefix,
        "areaCode": area.prefix,
        "type": area.type,
        "areaName": area.name,
        "infoFeeRateSections": [dict(s) for s in sections or ()],
        "fee": fee,
        "period": area.period,
        "lockType": 1 if area.locked else 0,
        "ivrFee": fee,
        "ivrPeriod": area.period,
    }


def group_table(factor: Decimal, exact_destinations: bool, sections: bool) -> list[dict]:
    """The catalogue priced at ``factor`` x retail; ``exact_destinations`` keeps calls.py's."""
    exact = {d.prefix for d in DESTINATIONS} if exact_destinations else set()
    table = []
    for area in CATALOGUE:
        fee = Decimal(area.fee)
        if area.prefix not in exact:
            fee = (fee * factor).quantize(_FOUR_PLACES, ROUND_HALF_UP)
        table.append(fee_rate(area, fee, _SECTIONS.get(area.prefix) if sections else None))
    return table


def demo_groups() -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    groups, tables = {}, {}
    for name, (memo, factor, exact) in DEMO_GROUPS.items():
        groups[name] = {"name": name, "memo": memo, "fakeMinute": 60}
        tables[name] = group_table(factor, exact, sections=exact)
    return groups, tables


def large_table(count: int) -> list[dict[str, Any]]:
    """At least ``count`` rates: the catalogue, then longer prefixes under its areas."""
    table = group_table(Decimal("1"), True, sections=False)
    prefixes = {r["feePrefix"] for r in table}
    suffix = 0
    while len(table) < count:
        for area in CATALOGUE:
            if len(table) >= count:
                break
            prefix = f"{area.prefix}{suffix}"
            if prefix not in prefixes:
                prefixes.add(prefix)
                extended = area._replace(prefix=prefix, name=f"{area.name} {suffix}")
                table.append(fee_rate(extended, Decimal(area.fee)))
        suffix += 1
    return table


# --- what a balance buys ------------------------------------------------------------------


def _step_cost(rate: dict[str, Any]) -> Decimal:
    return rate["fee"] * rate["period"] / 60


def seconds_for(money: Decimal, rate: dict[str, Any]) -> int:
    """Talk time ``money`` pays for at ``rate``: its sections first, then whole periods.

    A free rate (fee 0, no paid section) allows MAX_SECONDS. Capped at MAX_SECONDS.
    """
    seconds = 0
    for section in sorted(rate["infoFeeRateSections"], key=lambda s: s["position"]):
        if money < section["fee"]:
            return seconds
        money -= section["fee"]
        seconds += section["time"]
    step = _step_cost(rate)
    if step <= 0 or rate["period"] <= 0:
        return MAX_SECONDS
    seconds += math.floor(money / step) * rate["period"]
    return min(seconds, MAX_SECONDS)
