"""7. The HTTP API: paging through one account's calls, and one customer's figures.

Subject: ``GET /api/v1/customers/{account}/calls?limit=500&direction=forward`` followed page by
page (``after``) through every call of the account, with a staff key, through the test client
and the whole middleware stack; and ``GET /api/v1/customers/{account}`` (which asks the
emulator for the figures, as the page does). References: the bare keyset cursor the endpoint
stands on (``telephony.selectors.calls_after``, no HTTP), and the bench's static page
(``bench.views.bare``) through the same stack, measured in turn with the subject.
"""

from __future__ import annotations

import time

from bench.emulator import EmulatorProcess
from bench.fixtures import customer_with_calls, user_create
from bench.measure import Report, Target, interleaved_ms, percentile

# The same fixture as the calls scenario (one database group): 200,000 calls of one account.
SIZES = {
    "smoke": {"total": 10_000, "target_rows": 2_000, "others": 20, "days": 31, "repeat": 10},
    "full": {"total": 1_000_000, "target_rows": 200_000, "others": 99, "days": 31, "repeat": 60},
}
LIMIT = 500
ROWS_PER_SECOND_RATIO = 0.3  # the API's JSON and HTTP stack vs the bare cursor
DETAIL_TARGET_MS = 150


def _page_through(fetch) -> tuple[int, float]:
    """Follow ``next`` to the end; (rows, seconds)."""
    started = time.perf_counter()
    rows, after = 0, None
    while True:
        items, after = fetch(after)
        rows += items
        if after is None:
            return rows, time.perf_counter() - started


def run(*, total: int, target_rows: int, others: int, days: int, repeat: int) -> Report:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from accounts.models import Role
    from accounts.services.apikeys import api_key_create
    from accounts.services.audit import Actor
    from telephony.selectors import FORWARD, calls_after

    settings.API_RATE_BURST = settings.API_RATE_SUSTAINED = "1000000/s"
    with EmulatorProcess(kind="scale", accounts=others + 1) as emu:
        _user, account, _fixture = customer_with_calls(
            url=emu.url, total=total, target_rows=target_rows, others=others, days=days
        )
        staff = user_create(username="bench-staff", role=Role.STAFF, vos_account=None)
        key = api_key_create(actor=Actor(), user=staff, name="bench", scopes=["read"]).text
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        calls_url = f"/api/v1/customers/{account.account}/calls"
        detail_url = f"/api/v1/customers/{account.account}"

        def api_page(after):
            params = {"limit": LIMIT, "direction": FORWARD, **({"after": after} if after else {})}
            response = client.get(calls_url, params)
            if response.status_code != 200:
                raise RuntimeError(f"GET {calls_url}: HTTP {response.status_code}")
            body = response.json()
            return len(body["items"]), body["next"]

        def bare_page(after):
            page = calls_after(account, after=after, limit=LIMIT, direction=FORWARD)
            return len(page.calls), page.next_after

        bare_rows, bare_seconds = _page_through(bare_page)
        api_rows, api_seconds = _page_through(api_page)
        if api_rows != bare_rows:
            raise RuntimeError(f"the API read {api_rows} calls, the cursor {bare_rows}")

        def detail():
            if client.get(detail_url).status_code != 200:
                raise RuntimeError(f"GET {detail_url} failed")

        samples = interleaved_ms(
            {"detail": detail, "ref": lambda: Client().get(reverse("bench_bare"))}, repeat=repeat
        )

    report = Report()
    report.add(
        "calls rows/s",
        api_rows / api_seconds,
        "/s",
        reference=bare_rows / bare_seconds,
        target=Target(min_ratio=ROWS_PER_SECOND_RATIO),
    )
    report.add(
        "customer p95",
        percentile(samples["detail"], 95),
        "ms",
        reference=percentile(samples["ref"], 95),
        better="lower",
        target=Target(max=DETAIL_TARGET_MS),
    )
    report.details.update(
        calls_read=api_rows,
        pages=-(-api_rows // LIMIT),
        api_seconds=round(api_seconds, 3),
        cursor_seconds=round(bare_seconds, 3),
        customer_p50_ms=percentile(samples["detail"], 50),
    )
    return report
