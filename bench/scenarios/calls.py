"""3. Calls page: one account with many calls in the window, in a table of a million.

Subject: the customer's calls page (``customer:calls``) through the test client and the whole
middleware stack, with filters and a second page; the totals over the same filters
(``telephony.selectors.calls_totals``). Reference: the bench's static page (bench.views.bare)
through the same stack, measured in turn with the subject.
"""

from __future__ import annotations

from bench.emulator import EmulatorProcess
from bench.fixtures import customer_with_calls
from bench.measure import NotAvailable, Report, Target, interleaved_ms, percentile

SIZES = {
    "smoke": {"total": 10_000, "target_rows": 2_000, "others": 20, "days": 31, "repeat": 10},
    "full": {"total": 1_000_000, "target_rows": 200_000, "others": 99, "days": 31, "repeat": 60},
}


def view_is_real(url: str) -> bool:
    """False while the URL still shows the placeholder page."""
    from django.urls import resolve
    from django.views.generic import TemplateView

    view_class = getattr(resolve(url).func, "view_class", None)
    return not (view_class is not None and issubclass(view_class, TemplateView))


def get_ok(client, url: str, params: dict | None = None):
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params or ''}: HTTP {response.status_code}")
    return response


def _report_pages(report: Report, samples: dict, ref: list[float]) -> None:
    """The rows of the targets: each variant's p95 against the bare page's p95."""
    ref95 = percentile(ref, 95)
    rows = (
        ("page p95, no filter", "page:window", Target(min_ratio=0.5)),
        ("page p95, number prefix", "page:prefix", Target(min_ratio=0.2)),
        ("page p95, answered only", "page:answered", None),
        ("page p95, second page", "page:second", None),
        ("totals p95, no filter", "totals:window", Target(min_ratio=1.0)),
        ("totals p95, number prefix", "totals:prefix", None),
        ("statement p95, a month", "statement", Target(min_ratio=0.5)),
        # What the cached and deferred parts cost when they are worked out: the statement's
        # figures (statement_for, kept per sync state by the page) and the request that adds
        # up a number filter's totals (the page shows its rows without waiting for it).
        ("statement figures alone p95", "statement:alone", None),
        ("totals request p95, number prefix", "totals:request", None),
    )
    for label, name, target in rows:
        if name in samples:
            report.add(
                label,
                percentile(samples[name], 95),
                "ms",
                reference=ref95,
                better="lower",
                target=target,
            )
    page = [s for name, ms in samples.items() if name.startswith("page:") for s in ms]
    if page:
        report.add(
            "page p50, all variants",
            percentile(page, 50),
            "ms",
            reference=percentile(ref, 50),
            better="lower",
        )


def run(*, total: int, target_rows: int, others: int, days: int, repeat: int) -> Report:
    from django.test import Client
    from django.urls import reverse

    from telephony import selectors

    with EmulatorProcess(kind="scale", accounts=others + 1) as emu:
        user, account, fixture = customer_with_calls(
            url=emu.url, total=total, target_rows=target_rows, others=others, days=days
        )
        client = Client()
        client.force_login(user)
        calls_url = reverse("customer:calls")
        window = {"start": fixture.first.isoformat(), "end": fixture.last.isoformat()}
        filters = {
            "window": window,
            "answered": {**window, "outcome": selectors.ANSWERED},
            "prefix": {**window, "q": "86139"},
        }
        in_window = selectors.calls_for(account, start=fixture.begin, end=fixture.end).count()

        bounds = {"start": fixture.begin, "end": fixture.end}
        lookups = {
            "window": {},
            "answered": {"outcome": selectors.ANSWERED},
            "prefix": {"search": "86139"},
        }
        funcs = {
            f"totals:{name}": (
                lambda extra=extra: selectors.calls_totals(account, **bounds, **extra)
            )
            for name, extra in lookups.items()
        }
        funcs["ref"] = lambda: get_ok(client, reverse("bench_bare"))
        statement_url = reverse("customer:statement")
        month = {"month": fixture.last.strftime("%Y-%m")}
        funcs["statement"] = lambda: get_ok(client, statement_url, month)
        funcs["statement:alone"] = lambda: _statement_alone(account, fixture)
        if view_is_real(calls_url):
            totals_url = reverse("customer:calls_totals")
            funcs["totals:request"] = lambda: get_ok(client, totals_url, filters["prefix"])
        real_view = view_is_real(calls_url)
        if real_view:
            for name, params in filters.items():
                funcs[f"page:{name}"] = lambda params=params: get_ok(client, calls_url, params)
            older = _older_cursor(account, bounds)
            if older:
                funcs["page:second"] = lambda: get_ok(client, calls_url, {**window, "older": older})
        samples = interleaved_ms(funcs, repeat=repeat)

    report = Report()
    ref = samples.pop("ref")
    _report_pages(report, samples, ref)
    report.details.update(
        rows_in_table=total,
        rows_in_window=in_window,
        by_variant={
            name: {"p50": percentile(ms, 50), "p95": percentile(ms, 95)}
            for name, ms in {**samples, "ref": ref}.items()
        },
        page_view="measured" if real_view else "not available (placeholder view)",
    )
    if not any(name.startswith("page:") for name in samples):
        raise NotAvailable("calls page view not available")
    return report


def _statement_alone(account, fixture):
    from datetime import date

    from django.utils import timezone

    from billing.selectors import statement_for
    from telephony.selectors import day_bounds

    first = date(fixture.last.year, fixture.last.month, 1)
    start, end = day_bounds(first, fixture.last, timezone.get_current_timezone())
    return statement_for(account, start=start, end=end)


def _older_cursor(account, bounds) -> str | None:
    from telephony import selectors

    page = selectors.calls_page(selectors.calls_for(account, **bounds))
    return page.older
