"""A small call model: who calls where, how long, what it costs, and the CDR VOS writes.

Shared by the demo seed, the on-demand CDRs of the scale seed and the ``--traffic`` option,
so that every CDR the emulator serves has the same shape and pricing rules.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .state import SwitchState
from .wire import day_start_ms

ZERO = Decimal("0")
_FOUR_PLACES = Decimal("0.0001")
DAY_MS = 86_400_000


class Destination(NamedTuple):
    name: str
    prefix: str  # the rate-table prefix that matched: feePrefix
    digits: int  # random digits dialled after the prefix
    level: int  # callLevel: 1 net, 2 local, 4 domestic, 5 international
    rate: Decimal  # customer price per minute
    agent_rate: Decimal  # what the agent pays per minute
    increment: int  # billing step in seconds
    gateway: str  # calleeGateway; "" for on-net calls between phones
    weight: int


def _d(text: str) -> Decimal:
    return Decimal(text)


DESTINATIONS: tuple[Destination, ...] = (
    Destination("On-net", "861380000", 4, 1, ZERO, ZERO, 60, "", 5),
    Destination("Shenzhen fixed", "86755", 8, 2, _d("0.0200"), _d("0.0120"), 60, "GW-CN-FIXED", 14),
    Destination("Beijing fixed", "8610", 8, 4, _d("0.0450"), _d("0.0300"), 60, "GW-CN-FIXED", 6),
    Destination("China mobile", "86139", 8, 4, _d("0.0500"), _d("0.0350"), 60, "GW-CN-MOBILE", 20),
    Destination("China mobile", "86186", 8, 4, _d("0.0500"), _d("0.0350"), 60, "GW-CN-MOBILE", 10),
    Destination("Hong Kong", "852", 8, 5, _d("0.0900"), _d("0.0600"), 6, "GW-INTL-B", 8),
    Destination("USA/Canada", "1", 10, 5, _d("0.0300"), _d("0.0180"), 6, "GW-INTL-B", 8),
    Destination("UK fixed", "4420", 8, 5, _d("0.0800"), _d("0.0500"), 6, "GW-INTL-A", 4),
    Destination("UK mobile", "447", 9, 5, _d("0.1800"), _d("0.1200"), 6, "GW-INTL-A", 5),
    Destination("Germany mobile", "4915", 9, 5, _d("0.2500"), _d("0.1800"), 6, "GW-INTL-A", 2),
)
_DEST_WEIGHTS = [d.weight for d in DESTINATIONS]

_GATEWAYS = {  # name -> (IP, tech prefix put in front of the callee)
    "GW-CN-FIXED": ("198.51.100.10", ""),
    "GW-CN-MOBILE": ("198.51.100.11", ""),
    "GW-INTL-A": ("198.51.100.20", "0086#"),
    "GW-INTL-B": ("198.51.100.21", "9901"),
}
_DEVICES = (
    "Yealink SIP-T31P",
    "Grandstream GXP1625",
    "MicroSIP/3.21.3",
    "Linphone/5.2.5",
    "Zoiper rv2.10.20",
    "Fanvil X3U",
)
_HOUR_WEIGHTS = (1, 0, 0, 0, 0, 1, 2, 4, 7, 9, 10, 10, 8, 9, 10, 10, 9, 8, 7, 7, 6, 5, 3, 2)
# (weight, endDirection, endReason): Q.850 causes, see docs/EMULATOR.md.
_ANSWERED_ENDINGS = ((60, 0, 16), (37, 1, 16), (3, 2, 102))
_UNANSWERED_ENDINGS = ((35, 0, 16), (25, 1, 17), (20, 1, 19), (8, 1, 21), (7, 2, 34), (5, 2, 1))
_RING_SECONDS = {16: (3, 30), 17: (1, 3), 19: (30, 60), 21: (2, 8), 34: (0, 1), 1: (0, 1)}
ANSWER_RATE = 0.65


class CallPlan(NamedTuple):
    start: int  # epoch ms
    ring: int  # seconds before answer (or before giving up)
    hold: int  # talk time in seconds; 0 when unanswered
    dest: Destination
    callee: str
    end_direction: int
    end_reason: int
    fee_time: int
    fee: Decimal
    agent_fee: Decimal


def _pick(rng: random.Random, endings: Sequence[tuple[int, int, int]]) -> tuple[int, int]:
    _, direction, reason = rng.choices(endings, [e[0] for e in endings])[0]
    return direction, reason


def _price(seconds: int, dest: Destination) -> tuple[int, Decimal, Decimal]:
    """feeTime rounded up to the billing step, and the customer and agent fees."""
    if seconds <= 0:
        return 0, ZERO, ZERO
    fee_time = math.ceil(seconds / dest.increment) * dest.increment
    minutes = Decimal(fee_time) / 60
    fee = (minutes * dest.rate).quantize(_FOUR_PLACES, ROUND_HALF_UP)
    agent_fee = (minutes * dest.agent_rate).quantize(_FOUR_PLACES, ROUND_HALF_UP)
    return fee_time, fee, agent_fee


def plan_call(
    rng: random.Random, start_ms: int, favorites: Sequence[tuple[Destination, str]] = ()
) -> CallPlan:
    if favorites and rng.random() < 0.25:
        dest, callee = rng.choice(favorites)
    else:
        dest = rng.choices(DESTINATIONS, _DEST_WEIGHTS)[0]
        callee = dest.prefix + str(rng.randrange(10**dest.digits)).zfill(dest.digits)
    if rng.random() < ANSWER_RATE:
        direction, reason = _pick(rng, _ANSWERED_ENDINGS)
        ring = rng.randint(2, 20)
        # Log-normal talk time: median 75 s, most calls 20 s - 10 min, a long tail to 2 h.
        hold = max(1, min(7200, int(rng.lognormvariate(math.log(75), 1.0))))
    else:
        direction, reason = _pick(rng, _UNANSWERED_ENDINGS)
        ring = rng.randint(*_RING_SECONDS[reason])
        hold = 0
    fee_time, fee, agent_fee = _price(hold, dest)
    return CallPlan(start_ms, ring, hold, dest, callee, direction, reason, fee_time, fee, agent_fee)


def plan_day(
    rng: random.Random,
    day_begin_ms: int,
    day_end_ms: int,
    count: int,
    favorites: Sequence[tuple[Destination, str]] = (),
) -> list[CallPlan]:
    """``count`` calls spread over a local day, busier in office hours, in start order."""
    last = day_end_ms - day_begin_ms - 1  # a DST day may be 23 or 25 hours long
    plans = []
    for _ in range(count):
        hour = rng.choices(range(24), _HOUR_WEIGHTS)[0]
        offset = min(last, hour * 3_600_000 + rng.randrange(3_600_000))
        plans.append(plan_call(rng, day_begin_ms + offset, favorites))
    plans.sort(key=lambda p: p.start)
    return plans


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def phone_ip(e164: str) -> str:
    return f"203.0.113.{_crc(e164) % 250 + 2}"


def phone_device(e164: str) -> str:
    return _DEVICES[_crc(e164) % len(_DEVICES)]


def cdr_record(
    plan: CallPlan,
    *,
    caller: str,
    customer: dict[str, Any],
    agent_name: str,
    flow_no: int,
) -> dict[str, Any]:
    """The InfoCdr VOS writes for ``plan`` (every field of manual 2.46, plus flowNo)."""
    dest = plan.dest
    on_net = not dest.gateway
    gateway_ip, tech_prefix = _GATEWAYS.get(dest.gateway, ("", ""))
    agent = customer["agentAccount"]
    return {
        "callerE164": caller,
        "callerAccessE164": caller,
        "callerProductId": phone_device(caller),
        "callerToGatewayE164": "" if on_net else caller,
        "callerGateway": "",
        "callerip": phone_ip(caller),
        "calleeE164": plan.callee,
        "calleeAccessE164": plan.callee,
        "calleeProductId": phone_device(plan.callee) if on_net else "",
        "calleeToGatewayE164": "" if on_net else tech_prefix + plan.callee,
        "calleeGateway": dest.gateway,
        "calleeip": phone_ip(plan.callee) if on_net else gateway_ip,
        "start": plan.start,
        "stop": plan.start + (plan.ring + plan.hold) * 1000,
        "holdTime": plan.hold,
        "feeTime": plan.fee_time,
        "fee": plan.fee,
        "feePrefix": dest.prefix,
        "suiteFee": ZERO,
        "suiteFeeTime": 0,
        "agentFee": plan.agent_fee if agent else ZERO,
        "agentFeeTime": plan.fee_time if agent else 0,
        "agentFeePrefix": dest.prefix if agent else "",
        "agentSuiteFee": ZERO,
        "agentSuiteFeeTime": 0,
        "callLevel": dest.level,
        "account": customer["account"],
        "accountName": customer["name"],
        "agentAccount": agent,
        "agentName": agent_name,
        "endDirection": plan.end_direction,
        "endReason": plan.end_reason,
        "calleeBilling": 0,
        "billingMode": 0,
        "flowNo": flow_no,
    }


def agent_name_of(state: SwitchState, customer: dict[str, Any]) -> str:
    agent = state.customers.get(customer["agentAccount"])
    return agent["name"] if agent else ""


@dataclass
class SyntheticCdrs:
    """CDRs of the scale seed, generated on demand from (account, day), never stored.

    The same (account, local day) always yields the same calls; calls that start after the
    state's clock (or before ``since_ms``) are left out, so today's list grows over time.
    Balances are not charged for them.
    """

    per_day: float
    since_ms: int
    seed: int = 0
    _cache: dict[tuple[str, date, str], list[CallPlan]] = field(
        default_factory=dict, repr=False, compare=False
    )

    CACHE_LIMIT = 4096

    def to_dict(self) -> dict[str, Any]:
        return {"per_day": self.per_day, "since_ms": self.since_ms, "seed": self.seed}

    def _plans(self, account: str, day: date, tz: ZoneInfo) -> list[CallPlan]:
        key = (account, day, tz.key)
        plans = self._cache.get(key)
        if plans is None:
            rng = random.Random(f"{self.seed}|{account}|{day.isoformat()}")
            count = max(0, round(rng.gauss(self.per_day, self.per_day * 0.35)))
            begin = day_start_ms(day, tz)
            plans = plan_day(rng, begin, day_start_ms(day + timedelta(days=1), tz), count)
            if len(self._cache) >= self.CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = plans
        return plans

    def copy(self) -> SyntheticCdrs:
        return SyntheticCdrs(**self.to_dict())

    def fees_between(
        self, account: str, begin_ms: int, end_ms: int, now_ms: int, tz: ZoneInfo
    ) -> Decimal:
        plans = self.plans_between(account, begin_ms, end_ms, now_ms, tz)
        return sum((p.fee for p in plans), ZERO)

    def plans_between(
        self, account: str, begin_ms: int, end_ms: int, now_ms: int, tz: ZoneInfo
    ) -> list[CallPlan]:
        """Calls of ``account`` starting in [begin_ms, end_ms) that have already started."""
        begin_ms = max(begin_ms, self.since_ms)
        end_ms = min(end_ms, now_ms)
        if begin_ms >= end_ms:
            return []
        found: list[CallPlan] = []
        day = _local_day(begin_ms, tz)
        while day_start_ms(day, tz) < end_ms:
            found.extend(p for p in self._plans(account, day, tz) if begin_ms <= p.start < end_ms)
            day += timedelta(days=1)
        return found

    def records(
        self,
        state: SwitchState,
        account: str,
        begin_ms: int,
        end_ms: int,
    ) -> list[dict[str, Any]]:
        customer = state.customers[account]
        phones = state.phones_of(account)
        if not phones:
            return []
        agent_name = agent_name_of(state, customer)
        account_hash = _crc(account) % 1000
        return [
            cdr_record(
                plan,
                caller=phones[0],
                customer=customer,
                agent_name=agent_name,
                # start ms x 1000 + a per-account number: unique and rising with time.
                flow_no=plan.start * 1000 + account_hash,
            )
            for plan in self.plans_between(account, begin_ms, end_ms, state.now_ms(), state.tz)
        ]


def _local_day(ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ms / 1000, tz).date()


def simulate_call(state: SwitchState, rng: random.Random) -> dict[str, Any] | None:
    """A call that has just ended, by a random customer able to call (--traffic).

    Able: has a phone, is not locked, and has money left within its overdraft limit.
    """
    with state.lock:
        index = state.phone_index()
        callers = sorted(
            account
            for account, phones in index.items()
            if phones and account in state.customers and _can_call(state.customers[account])
        )
        if not callers:
            return None
        account = rng.choice(callers)
        customer = state.customers[account]
        plan = plan_call(rng, 0)
        plan = plan._replace(start=state.now_ms() - (plan.ring + plan.hold) * 1000)
        cdr = cdr_record(
            plan,
            caller=rng.choice(index[account]),
            customer=customer,
            agent_name=agent_name_of(state, customer),
            flow_no=0,  # add_cdr numbers it
        )
        state.add_cdr(cdr, charge=True)
        return cdr


def _can_call(customer: dict[str, Any]) -> bool:
    return customer["lockType"] == 0 and customer["money"] + customer["limitMoney"] > 0
