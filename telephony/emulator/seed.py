"""Seeds: a small, story-shaped demo softswitch and a large synthetic one for benchmarks.

Both are deterministic: fixed random seeds, and every time relative to ``now``. The demo's
accounts, phones and passwords are listed in docs/EMULATOR.md ("Demo data").

:class:`EmulatorState` is the state the package exports: the plain SwitchState plus the
ways to build one (empty, demo, scale, a seed spec) and to load generated CDRs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .calls import DESTINATIONS, Destination, SyntheticCdrs, cdr_record, plan_call, plan_day
from .demo_data import (
    DEMO_AGENTS,
    DEMO_CUSTOMERS,
    DEMO_PHONE_BOOK,
    LOCKED_DAYS_AGO,
    PAY_MEMOS,
    DemoAgent,
    DemoCustomer,
    add_demo_cards,
    add_demo_current_calls,
    add_demo_registrations,
)
from .rates import demo_groups, large_table
from .records import (
    CONSUMPTION_PHONE_RENT,
    DAY_MS,
    PAY_CASH,
    PAY_CREATE_ACCOUNT,
    PAY_OTHER,
    new_customer,
    new_phone,
)
from .state import CdrSource, SwitchState, local_day_bounds
from .wire import to_ms


class EmulatorState(SwitchState):
    """The softswitch's data. Build it with :meth:`empty`, :meth:`demo`, :meth:`scale`."""

    @classmethod
    def empty(cls) -> EmulatorState:
        return cls()

    @classmethod
    def demo(cls, now: datetime | None = None) -> EmulatorState:
        return build_demo(now)

    @classmethod
    def scale(
        cls,
        accounts: int,
        agents: int = 50,
        now: datetime | None = None,
        cdrs_per_account_per_day: float = 0,
        history_days: int = 31,
        fee_rates: int = 0,
    ) -> EmulatorState:
        return build_scale(
            accounts,
            agents=agents,
            now=now,
            cdrs_per_account_per_day=cdrs_per_account_per_day,
            history_days=history_days,
            fee_rates=fee_rates,
        )

    @classmethod
    def from_spec(cls, spec: str, now: datetime | None = None) -> EmulatorState:
        """``empty``, ``demo``, ``scale:N``, ``scale:N:CDRS_PER_ACCOUNT_PER_DAY`` or
        ``scale:N:CDRS:FEE_RATES`` (FEE_RATES: rates in the scale group's table)."""
        name, _, rest = spec.partition(":")
        if name == "empty" and not rest:
            return cls.empty()
        if name == "demo" and not rest:
            return cls.demo(now)
        if name == "scale" and rest:
            count, _, more = rest.partition(":")
            per_day, _, rates = more.partition(":")
            try:
                return cls.scale(
                    int(count),
                    now=now,
                    cdrs_per_account_per_day=float(per_day or 0),
                    fee_rates=int(rates or 0),
                )
            except ValueError:
                pass
        raise ValueError(
            f"unknown seed {spec!r}: use empty, demo, scale:N, scale:N:CDRS or scale:N:CDRS:RATES"
        )

    @classmethod
    def cdr_source_from_dict(cls, data: dict[str, Any]) -> CdrSource:
        return SyntheticCdrs(**data)

    def clone(self) -> EmulatorState:
        other = super().clone()
        assert isinstance(other, EmulatorState)
        return other


DEMO_RANDOM_SEED = 3000
SCALE_RANDOM_SEED = 3001
DEMO_HISTORY_DAYS = 42  # six weeks of CDRs, today included
DEMO_FIRST_FLOW_NO = 100_000_001


def demo_phones(account: str, two: bool) -> list[str]:
    """8613800001001 for 1001, and 8613900001001 as its second phone."""
    numbers = [f"861380000{account}"]
    if two:
        numbers.append(f"861390000{account}")
    return numbers


def destination_for(number: str) -> Destination:
    """The rate-table entry with the longest prefix matching ``number``."""
    matches = [d for d in DESTINATIONS if number.startswith(d.prefix)]
    if not matches:
        raise ValueError(f"no destination for {number}")
    return max(matches, key=lambda d: len(d.prefix))


# --- demo ---------------------------------------------------------------------------------

_demo_cache: dict[int, EmulatorState] = {}
_demo_cache_lock = threading.Lock()


def build_demo(now: datetime | None = None) -> EmulatorState:
    """The demo softswitch as of ``now`` (default: the start of the current minute, UTC).

    Built once per ``now`` and cloned: tests start one per test.
    """
    if now is None:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    key = to_ms(now)
    with _demo_cache_lock:
        template = _demo_cache.get(key)
        if template is None:
            template = _build_demo(now)
            if len(_demo_cache) >= 4:
                _demo_cache.clear()
            _demo_cache[key] = template
    return template.clone()


def _build_demo(now: datetime) -> EmulatorState:
    rng = random.Random(DEMO_RANDOM_SEED)
    state = EmulatorState("UTC")
    state.seed_spec = "demo"
    state.fee_rate_groups, state.fee_rates = demo_groups()
    state.next_flow_no = DEMO_FIRST_FLOW_NO
    now_ms = to_ms(now)
    first_day = now.astimezone(state.tz).date() - timedelta(days=DEMO_HISTORY_DAYS - 1)
    history_ms = local_day_bounds(first_day, state.tz)[0]

    for agent in DEMO_AGENTS:
        state.customers[agent.account] = new_customer(
            agent.account,
            history_ms - 90 * DAY_MS,
            name=agent.name,
            feeRateGroup="agent-cost",
            validTime=now_ms + 730 * DAY_MS,
            memo="Reseller",
            infoCustomerAdditional={
                "companyName": agent.company,
                "linkMan": agent.name,
                "email": f"billing@{agent.account}.example.com",
            },
        )
    all_phones = [e for c in DEMO_CUSTOMERS for e in demo_phones(c.account, c.two_phones)]
    costs: dict[str, list[tuple[int, Decimal, str]]] = {}
    for spec in DEMO_CUSTOMERS:
        _add_demo_customer(state, spec, rng, history_ms)
        _add_demo_calls(state, spec, rng, first_day, now_ms, all_phones, costs)
    _add_demo_phone_book(state, now_ms)
    state.cdrs.sort(key=lambda c: c["stop"])
    for cdr in state.cdrs:  # VOS numbers CDRs as it writes them: at the end of the call
        cdr["flowNo"] = state.next_flow_no
        state.next_flow_no += 1
    for spec in DEMO_CUSTOMERS:
        _fund_customer(state, spec, costs[spec.account], rng)
    for agent in DEMO_AGENTS:
        _fund_agent(state, agent, now_ms)
    state.pay_history.sort(key=lambda r: r["payTime"])
    state.consumptions.sort(key=lambda r: r["time"])
    add_demo_cards(state, now_ms)
    add_demo_registrations(state, now_ms)
    add_demo_current_calls(state, now_ms)
    return state


def _add_demo_customer(
    state: EmulatorState, spec: DemoCustomer, rng: random.Random, history_ms: int
) -> None:
    start_ms = history_ms - rng.randint(1, 20) * DAY_MS - rng.randrange(DAY_MS)
    state.customers[spec.account] = new_customer(
        spec.account,
        start_ms,
        name=spec.name,
        limitMoney=spec.limit_money,
        feeRateGroup=spec.fee_rate_group,
        lockType=1 if spec.locked else 0,
        agentAccount=spec.agent,
        phoneBookLimit=spec.phone_book_limit,
        validTime=start_ms + 730 * DAY_MS,
        memo=spec.memo,
        infoCustomerAdditional={
            "linkMan": spec.name,
            "email": f"c{spec.account}@example.com",
            "telephone": f"+86 755 8000 {spec.account}",
            "reportType": spec.report_type,
        },
    )
    for index, e164 in enumerate(demo_phones(spec.account, spec.two_phones)):
        state.phones[e164] = new_phone(
            e164,
            spec.account,
            password=f"sip{e164[-9:]}",
            displayNumber=e164,
            customerPassword=f"web{spec.account}",
            monthlyRentFee=spec.rent if index == 0 else Decimal("0"),
            lockType=3 if spec.locked else 0,
        )


def _favorites(
    account: str, rng: random.Random, all_phones: Sequence[str]
) -> list[tuple[Destination, str]]:
    """Numbers a customer calls again and again (1001: its phone book)."""
    if account == "1001":
        numbers = [entry[0] for entry in DEMO_PHONE_BOOK]
    else:
        numbers = [rng.choice(all_phones)]
        for _ in range(3):
            dest = rng.choice(DESTINATIONS[1:])
            numbers.append(dest.prefix + str(rng.randrange(10**dest.digits)).zfill(dest.digits))
    return [(destination_for(n), n) for n in numbers if not n.endswith(account)]


def _add_demo_calls(
    state: EmulatorState,
    spec: DemoCustomer,
    rng: random.Random,
    first_day: date,
    now_ms: int,
    all_phones: Sequence[str],
    costs: dict[str, list[tuple[int, Decimal, str]]],
) -> None:
    customer = state.customers[spec.account]
    phones = demo_phones(spec.account, spec.two_phones)
    agent_name = state.customers[spec.agent]["name"] if spec.agent else ""
    favorites = _favorites(spec.account, rng, all_phones)
    # A CDR exists once the call has ended; a locked customer stopped calling when locked.
    cutoff = now_ms - LOCKED_DAYS_AGO * DAY_MS if spec.locked else now_ms
    plans = []
    for offset in range(DEMO_HISTORY_DAYS):
        begin, end = local_day_bounds(first_day + timedelta(days=offset), state.tz)
        plans += plan_day(rng, begin, end, rng.randint(*spec.calls_per_day), favorites)
    # A few calls in the last hours, so that "today" is never empty (unless it just began).
    recent_begin = max(begin, now_ms - 3 * 3_600_000)  # begin: midnight today
    if not spec.locked and recent_begin < now_ms - 600_000:
        for _ in range(rng.randint(1, 3)):
            start = rng.randrange(recent_begin, now_ms - 600_000)
            plans.append(plan_call(rng, start, favorites))
    own = costs.setdefault(spec.account, [])
    for plan in plans:
        cdr = cdr_record(
            plan, caller=rng.choice(phones), customer=customer, agent_name=agent_name, flow_no=0
        )
        if cdr["stop"] > cutoff:
            continue
        state.cdrs.append(cdr)
        if plan.fee:
            own.append((cdr["stop"], plan.fee, ""))
    for e164 in phones:
        rent = state.phones[e164]["monthlyRentFee"]
        if rent:
            own.extend((ms, rent, e164) for ms in _month_starts(state, customer, now_ms))


def _month_starts(state: EmulatorState, customer: dict[str, Any], now_ms: int) -> list[int]:
    """Local 1st-of-month midnights after the customer was created: when rent is taken."""
    found = []
    day = datetime.fromtimestamp(customer["startTime"] / 1000, state.tz).date()
    day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    while (ms := local_day_bounds(day, state.tz)[0]) <= now_ms:
        found.append(ms)
        day = (day + timedelta(days=32)).replace(day=1)
    return found


def _fund_customer(
    state: EmulatorState,
    spec: DemoCustomer,
    costs: list[tuple[int, Decimal, str]],
    rng: random.Random,
) -> None:
    """Replay the money story: an opening amount, calls and rent, a top-up when it runs low.

    Ordinary customers top up when the balance would fall under 2.00; the "negative" ones
    live on their overdraft and top up small amounts just before they hit limitMoney.
    """
    account = spec.account
    customer = state.customers[account]
    if spec.negative:
        threshold, opening = -spec.limit_money + 5, Decimal("20")
        amounts = (Decimal("10"), Decimal("20"))
    else:
        threshold, opening = Decimal("2"), Decimal(rng.choice((10, 20, 30)))
        amounts = tuple(Decimal(a) for a in (10, 20, 30, 50, 100))
    last_ms = customer["startTime"]
    state.pay(account, opening, kind=PAY_CREATE_ACCOUNT, at_ms=last_ms)
    for at_ms, amount, rent_phone in sorted(costs):
        while customer["money"] - amount < threshold:  # a long call may need two top-ups
            pay_at = min(at_ms, max(last_ms + 1, at_ms - rng.randint(5, 240) * 60_000))
            memo = rng.choice(PAY_MEMOS)
            pay_type = PAY_OTHER if memo == "Bank transfer" else PAY_CASH
            state.pay(account, rng.choice(amounts), pay_type=pay_type, memo=memo, at_ms=pay_at)
        if rent_phone:
            state.consume(
                account, amount, kind=CONSUMPTION_PHONE_RENT, name=rent_phone, at_ms=at_ms
            )
        else:
            customer["money"] -= amount
        last_ms = at_ms


def _fund_agent(state: EmulatorState, agent: DemoAgent, now_ms: int) -> None:
    """An agent pays for its customers' calls at agent rates; it ends near its target."""
    costs = sorted(
        (cdr["stop"], cdr["agentFee"])
        for cdr in state.cdrs
        if cdr["agentAccount"] == agent.account and cdr["agentFee"]
    )
    total = sum((fee for _, fee in costs), Decimal("0"))
    payments = []
    for days_ago, amount in ((75, Decimal("500")), (45, Decimal("500")), (20, Decimal("300"))):
        if agent.target + total - sum(a for _, a in payments) - amount >= 300:
            payments.append((now_ms - days_ago * DAY_MS, amount))
    opening = (agent.target + total - sum(a for _, a in payments)).quantize(Decimal("0.01"))
    customer = state.customers[agent.account]
    state.pay(agent.account, opening, kind=PAY_CREATE_ACCOUNT, at_ms=customer["startTime"])
    events = [(ms, -fee, False) for ms, fee in costs] + [(ms, a, True) for ms, a in payments]
    events.sort()
    for at_ms, amount, is_payment in events:
        if is_payment:
            state.pay(agent.account, amount, pay_type=PAY_OTHER, memo="Bank transfer", at_ms=at_ms)
        else:
            customer["money"] += amount


def _add_demo_phone_book(state: EmulatorState, now_ms: int) -> None:
    state.phone_books["1001"] = [
        {
            "e164": e164,
            "shortE164s": list(shorts),
            "name": name,
            "department": department,
            "deviceType": device_type,
            "addressType": address_type,
            "type": kind,
            "lastUpdateTime": now_ms - (index + 1) * 3 * DAY_MS,
            "memo": memo,
        }
        for index, (e164, shorts, name, department, device_type, address_type, kind, memo) in (
            enumerate(DEMO_PHONE_BOOK)
        )
    ]


# --- scale --------------------------------------------------------------------------------


def build_scale(
    accounts: int,
    *,
    agents: int = 50,
    now: datetime | None = None,
    cdrs_per_account_per_day: float = 0,
    history_days: int = 31,
    fee_rates: int = 0,
) -> EmulatorState:
    """``accounts`` customers c000001... spread over agents a0001..., one phone each.

    With ``cdrs_per_account_per_day`` > 0, CDRs since ``history_days`` ago are generated on
    demand (see SyntheticCdrs). No pay history, consumptions or phone books. Every account
    is in fee rate group ``scale``: the demo's retail table, grown to ``fee_rates`` rates.
    """
    if accounts < 0 or agents < 0:
        raise ValueError("accounts and agents must not be negative")
    now = now or datetime.now(UTC)
    rng = random.Random(SCALE_RANDOM_SEED)
    state = EmulatorState("UTC")
    state.seed_spec = f"scale:{accounts}" + (
        f":{cdrs_per_account_per_day:g}" if cdrs_per_account_per_day or fee_rates else ""
    )
    if fee_rates:
        state.seed_spec += f":{fee_rates}"
    state.fee_rate_groups["scale"] = {"name": "scale", "memo": "Scale seed", "fakeMinute": 60}
    state.fee_rates["scale"] = large_table(fee_rates)
    today = now.astimezone(state.tz).date()
    since_ms = local_day_bounds(today - timedelta(days=history_days), state.tz)[0]
    agents = min(agents, accounts) if accounts else agents
    for j in range(1, agents + 1):
        account = f"a{j:04d}"
        state.customers[account] = new_customer(
            account,
            since_ms - 60 * DAY_MS,
            name=f"Agent {j:04d}",
            feeRateGroup="scale",
            money=Decimal(rng.randint(100_000, 5_000_000)) / 100,
            validTime=since_ms + 3650 * DAY_MS,
        )
    for i in range(1, accounts + 1):
        account = f"c{i:06d}"
        money = Decimal(rng.randint(-5_000, 50_000)) / 100
        e164 = f"86170{i:08d}"
        state.customers[account] = new_customer(
            account,
            since_ms - rng.randrange(30 * DAY_MS),
            name=f"Customer {i:06d}",
            money=money,
            feeRateGroup="scale",
            limitMoney=Decimal(100) if money < 0 else Decimal(rng.choice((0, 0, 20))),
            agentAccount=f"a{(i - 1) % agents + 1:04d}" if agents else "",
            phoneBookLimit=10,
            validTime=since_ms + 3650 * DAY_MS,
        )
        state.phones[e164] = new_phone(
            e164, account, password=f"sip{i:08d}", customerPassword=f"web{account}"
        )
    if cdrs_per_account_per_day > 0:
        state.synthetic = SyntheticCdrs(cdrs_per_account_per_day, since_ms, SCALE_RANDOM_SEED)
    return state
