"""Seeds: a small, story-shaped demo softswitch and a large synthetic one for benchmarks.

Both are deterministic: fixed random seeds, and every time relative to ``now``. The demo's
accounts, phones and passwords are listed in docs/EMULATOR.md ("Demo data").
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .calls import DESTINATIONS, Destination, SyntheticCdrs, cdr_record, plan_call, plan_day
from .state import (
    CONSUMPTION_PHONE_RENT,
    DAY_MS,
    PAY_CASH,
    PAY_CREATE_ACCOUNT,
    PAY_OTHER,
    EmulatorState,
    local_day_bounds,
    new_customer,
    new_phone,
)
from .wire import to_ms

DEMO_RANDOM_SEED = 3000
SCALE_RANDOM_SEED = 3001
DEMO_HISTORY_DAYS = 42  # six weeks of CDRs, today included
DEMO_FIRST_FLOW_NO = 100_000_001


@dataclass(frozen=True)
class _Agent:
    account: str
    name: str
    target: Decimal  # balance at `now`
    company: str


@dataclass(frozen=True)
class _Customer:
    account: str
    name: str
    agent: str
    calls_per_day: tuple[int, int]
    phone_book_limit: int
    limit_money: Decimal = Decimal("0")
    negative: bool = False  # keeps a negative balance inside limitMoney
    locked: bool = False  # lockType 1 since LOCKED_DAYS_AGO
    two_phones: bool = False
    rent: Decimal = Decimal("0")  # monthly rent of the first phone
    fee_rate_group: str = "retail-std"
    memo: str = ""
    report_type: int = 0


DEMO_AGENTS = (
    _Agent("agent01", "Sunrise Telecom", Decimal("1500"), "Sunrise Telecom Ltd"),
    _Agent("agent02", "深圳云通讯", Decimal("800"), "深圳云通讯有限公司"),
)
_D = Decimal
DEMO_CUSTOMERS = (
    _Customer("1001", "张伟", "agent01", (15, 40), 20, two_phones=True, rent=_D("8"), memo="VIP"),
    _Customer("1002", "Café Müller", "agent01", (5, 15), 5, report_type=3),
    _Customer("1003", "Ольга Петрова", "agent01", (15, 30), 0, _D("100"), negative=True),
    _Customer("1004", "Acme Logistics Ltd", "agent01", (20, 40), 100, two_phones=True,
              fee_rate_group="wholesale", report_type=1),
    _Customer("1005", "王芳", "agent01", (5, 12), 10),
    _Customer("1006", "Bad Debt Trading", "agent01", (8, 20), 0, locked=True,
              memo="Locked: unpaid invoice"),
    _Customer("2001", "李娜", "agent02", (10, 30), 3, two_phones=True, rent=_D("15"),
              fee_rate_group="深圳标准"),
    _Customer("2002", "Hôtel Étoile", "agent02", (5, 20), 50, fee_rate_group="深圳标准"),
    _Customer("2003", "O'Brien & Sons", "agent02", (10, 25), 0, _D("50"), negative=True,
              fee_rate_group="深圳标准"),
    _Customer("2004", "Nguyễn Văn An", "agent02", (5, 10), 2147483647, fee_rate_group="深圳标准"),
    _Customer("3001", "Walk-in Direct", "", (8, 25), 10, two_phones=True, rent=_D("5")),
)  # fmt: skip
LOCKED_DAYS_AGO = 9
# 1001's phone book: (e164, shortE164s, name, department, deviceType, addressType, type, memo)
DEMO_PHONE_BOOK = (
    ("8613912345678", ["8001"], "Li Lei", "Sales", 1, 1, 0, ""),
    ("8675588886666", [], "王小明", "财务部", 2, 1, 0, "月底对账"),
    ("447700900123", [], "Oliver Smith", "", 1, 2, 0, ""),
    ("8613800001002", ["1002", "802"], "Café Müller (front desk)", "", 3, 1, 1, ""),
)
_PAY_MEMOS = ("Alipay", "WeChat Pay", "Bank transfer", "Cash at counter", "充值 微信支付", "")


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
    return state


def _add_demo_customer(
    state: EmulatorState, spec: _Customer, rng: random.Random, history_ms: int
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
    spec: _Customer,
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
    state: EmulatorState, spec: _Customer, costs: list[tuple[int, Decimal, str]], rng: random.Random
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
            memo = rng.choice(_PAY_MEMOS)
            pay_type = PAY_OTHER if memo == "Bank transfer" else PAY_CASH
            state.pay(account, rng.choice(amounts), pay_type=pay_type, memo=memo, at_ms=pay_at)
        if rent_phone:
            state.consume(
                account, amount, kind=CONSUMPTION_PHONE_RENT, name=rent_phone, at_ms=at_ms
            )
        else:
            customer["money"] -= amount
        last_ms = at_ms


def _fund_agent(state: EmulatorState, agent: _Agent, now_ms: int) -> None:
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
) -> EmulatorState:
    """``accounts`` customers c000001... spread over agents a0001..., one phone each.

    With ``cdrs_per_account_per_day`` > 0, CDRs since ``history_days`` ago are generated on
    demand (see SyntheticCdrs). No pay history, consumptions or phone books.
    """
    if accounts < 0 or agents < 0:
        raise ValueError("accounts and agents must not be negative")
    now = now or datetime.now(UTC)
    rng = random.Random(SCALE_RANDOM_SEED)
    state = EmulatorState("UTC")
    state.seed_spec = f"scale:{accounts}" + (
        f":{cdrs_per_account_per_day:g}" if cdrs_per_account_per_day else ""
    )
    today = now.astimezone(state.tz).date()
    since_ms = local_day_bounds(today - timedelta(days=history_days), state.tz)[0]
    agents = min(agents, accounts) if accounts else agents
    for j in range(1, agents + 1):
        account = f"a{j:04d}"
        state.customers[account] = new_customer(
            account,
            since_ms - 60 * DAY_MS,
            name=f"Agent {j:04d}",
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
