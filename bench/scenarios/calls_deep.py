"""3b. The calls page of scenario 3 with ten times the table: 10,000,000 calls (PostgreSQL:
partitioned by month), the same 200,000 in the account's window.

Subject and reference as in scenario 3 (bench.scenarios.calls), in a database of its own.
When both run in one ``python -m bench``, the runner adds the row "page p95 ratio, against
1,000,000": this run's ratio over scenario 3's, which should stay within 20%.
"""

from __future__ import annotations

from bench.measure import Report
from bench.scenarios import calls

SIZES = {
    "smoke": {"total": 20_000, "target_rows": 2_000, "others": 40, "days": 31, "repeat": 10},
    "full": {
        "total": 10_000_000,
        "target_rows": 200_000,
        "others": 999,
        "days": 31,
        "repeat": 60,
    },
}


def run(*, total: int, target_rows: int, others: int, days: int, repeat: int) -> Report:
    return calls.run(total=total, target_rows=target_rows, others=others, days=days, repeat=repeat)
