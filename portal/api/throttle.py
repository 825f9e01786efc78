"""Per-key rate limits as django-ninja throttles, counted atomically in the cache.

Each limit is a fixed window (``API_RATE_BURST`` per second, ``API_RATE_SUSTAINED`` per
minute by default): ``cache.add`` opens the window, ``cache.incr`` counts in it (atomic in
Redis and in the local-memory cache), so parallel requests can never overshoot.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip()]


class KeyRateThrottle(BaseThrottle):
    def __init__(self, setting: str):
        self.setting = setting
        self._wait: float | None = None

    def allow_request(self, request: HttpRequest) -> bool:
        key = getattr(request, "auth", None)
        if key is None:
            return True
        limit, period = parse_rate(getattr(settings, self.setting))
        now = time.time()
        window = int(now // period)
        name = f"api:rate:{self.setting}:{key.pk}:{window}"
        if cache.add(name, 1, period + 1):
            count = 1
        else:
            try:
                count = cache.incr(name)
            except ValueError:  # expired between add and incr
                cache.add(name, 1, period + 1)
                count = 1
        if count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self._wait
