"""What a scenario reports (metrics with a reference and a target) and how it measures."""

from __future__ import annotations

import cProfile
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

MB = 1024 * 1024


class NotAvailable(Exception):
    """The product code a scenario measures does not exist (yet): reported, not a crash."""


@dataclass
class Target:
    """A goal on the value and/or on the ratio to the reference; all given bounds must hold."""

    min: float | None = None
    max: float | None = None
    min_ratio: float | None = None
    max_ratio: float | None = None

    def check(self, value: float | None, ratio: float | None) -> bool | None:
        checks = []
        if self.min is not None or self.max is not None:
            if value is None:
                return None
            checks += [self.min is None or value >= self.min, self.max is None or value < self.max]
        if self.min_ratio is not None or self.max_ratio is not None:
            if ratio is None:
                return None
            checks += [
                self.min_ratio is None or ratio >= self.min_ratio,
                self.max_ratio is None or ratio <= self.max_ratio,
            ]
        return all(checks) if checks else None

    def text(self, unit: str) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {fmt(self.min, unit)}")
        if self.max is not None:
            parts.append(f"< {fmt(self.max, unit)}")
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:.0%} of ref")
        if self.max_ratio is not None:
            parts.append(f"<= {self.max_ratio:g}x ref")
        return ", ".join(parts)


@dataclass
class Metric:
    name: str
    value: float | None
    unit: str = ""
    reference: float | None = None
    target: Target | None = None
    # "higher" (rates) or "lower" (times, memory): which way the ratio is taken, so a ratio
    # above 1 always means the portal did better than the reference.
    better: str = "higher"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.reference is None:
            return None
        num, den = (
            (self.value, self.reference)
            if self.better == "higher"
            else (self.reference, self.value)
        )
        return num / den if den else None

    @property
    def met(self) -> bool | None:
        return self.target.check(self.value, self.ratio) if self.target else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = self.target.text(self.unit) if self.target else ""
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


@dataclass
class Report:
    """What a scenario hands back: metrics for the table, details for results.json."""

    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> Metric:
        metric = Metric(*args, **kwargs)
        self.metrics.append(metric)
        return metric


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if unit in ("ms",):
        text = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    elif unit == "MB":
        text = f"{value:,.1f}"
    elif unit == "s":
        text = f"{value:,.2f}"
    elif abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".rstrip()


# --- Time ------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def latencies_ms(func: Callable[[], Any], *, repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        with profiled():
            func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def interleaved_ms(
    funcs: dict[str, Callable[[], Any]], *, repeat: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Latencies of several callables measured in turn, so drifts of the machine hit all."""
    for func in funcs.values():
        for _ in range(warmup):
            func()
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            started = time.perf_counter()
            with profiled(enabled=not name.startswith("ref")):
                func()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


# --- Profiling (python -m bench --profile) ----------------------------------------------------

_profiler: cProfile.Profile | None = None


def profiling_start() -> cProfile.Profile:
    global _profiler
    _profiler = cProfile.Profile()
    return _profiler


@contextmanager
def profiled(enabled: bool = True) -> Iterator[None]:
    """Profile the block when profiling is on: only the portal's part, never the reference."""
    if _profiler is None or not enabled:
        yield
        return
    _profiler.enable()
    try:
        yield
    finally:
        _profiler.disable()


# --- Memory ----------------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_mb() -> float:
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    return _status_kb("VmHWM") / 1024


def peak_rss_reset() -> bool:
    """Reset the process's high-water mark (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


@dataclass
class RssWatch:
    before: float = 0.0
    peak: float = 0.0

    @property
    def growth(self) -> float:
        return max(0.0, self.peak - self.before)


@contextmanager
def rss_watch() -> Iterator[RssWatch]:
    """Resident memory before the block and its peak during it (MB)."""
    import gc

    gc.collect()
    watch = RssWatch(before=rss_mb())
    peak_rss_reset()
    try:
        yield watch
    finally:
        watch.peak = peak_rss_mb()
