"""Call rollups equal the raw rows they sum: after ingest, re-ingest, late calls, retention and
a rebuild, and for a day of any time zone (UTC, +05:30, +05:45, a summer-time change)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing.selectors import spend_by_day, statement_for
from telephony import selectors
from telephony.models import Cdr, CdrRollup, SyncState, VosAccount
from telephony.selectors import calls_for, day_bounds, period_totals
from telephony.services import cdr_partitions, cdrs, jobs
from telephony.services.cdr_rollups import bucket_floor
from telephony.services.cdr_store import cdrs_store
from tests.portal.fixtures import customer, customer_client, offline_account  # noqa: F401

from .factories import VosAccountFactory, VosServerFactory
from .test_sync_store import cdr_record

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York"]


def raw_buckets(server_id: int | None = None) -> dict:
    """What the rollups must hold, summed in Python from the raw rows."""
    sums: dict = defaultdict(lambda: [0, 0, 0, 0, Decimal("0")])
    rows = Cdr.objects.all() if server_id is None else Cdr.objects.filter(server_id=server_id)
    for cdr in rows:
        entry = sums[(cdr.server_id, cdr.account, bucket_floor(cdr.start))]
        entry[0] += 1
        entry[1] += cdr.hold_time > 0
        entry[2] += cdr.hold_time
        entry[3] += cdr.fee_time
        entry[4] += cdr.fee
    return {key: tuple(value) for key, value in sums.items()}


def rollups() -> dict:
    return {
        (r.server_id, r.account, r.bucket): (
            r.calls,
            r.answered,
            r.talk_seconds,
            r.billed_seconds,
            r.cost,
        )
        for r in CdrRollup.objects.all()
    }


@pytest.fixture
def server(settings):
    settings.CDR_RETENTION_DAYS = 10_000  # the calls below are of 2025
    return VosServerFactory()


def records_around_midnights(tz: ZoneInfo, first: date, days: int) -> list:
    """Calls on both sides of each local midnight and of quarter hours, to the microsecond."""
    records, n = [], 0
    for offset in range(days + 1):
        midnight = datetime.combine(first + timedelta(days=offset), datetime.min.time(), tz)
        for delta in (
            timedelta(microseconds=-1),
            timedelta(0),
            timedelta(minutes=14, seconds=59, microseconds=999999),
            timedelta(minutes=15),
            timedelta(hours=3, minutes=7),
            timedelta(hours=-5, minutes=-44),
        ):
            n += 1
            records.append(
                cdr_record(
                    flow_no=n,
                    start=(midnight + delta).astimezone(UTC),
                    hold_time=n % 3 * 30,
                    fee_time=n % 3 * 60,
                    fee=Decimal(n) / Decimal("1000"),
                )
            )
    return records


def test_rollups_equal_the_raw_rows_after_a_backfill_from_the_switch_and_a_rerun(vos_server):
    jobs.server_job_run(server=vos_server, job=SyncState.Job.DISCOVERY)
    today = selectors.server_today(vos_server)

    added = cdrs.cdr_backfill(server=vos_server, first=today - timedelta(days=9), last=today)
    assert added > 0
    stored = rollups()
    assert stored == raw_buckets()
    assert sum(v[0] for v in stored.values()) == Cdr.objects.count() == added

    assert cdrs.cdr_backfill(server=vos_server, first=today - timedelta(days=9), last=today) == 0
    assert rollups() == stored


def test_a_key_twice_in_one_answer_counts_once(server):
    record = cdr_record(flow_no=7)

    assert cdrs_store(server=server, records=[record, record, cdr_record(flow_no=8)]) == 2
    assert rollups() == raw_buckets()
    assert sum(v[0] for v in rollups().values()) == 2


def test_a_late_call_is_added_to_its_own_quarter_hour(server):
    base = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    cdrs_store(server=server, records=[cdr_record(flow_no=1, start=base, fee=Decimal("1"))])
    # Days later the switch sends a call from that morning, and one of the same quarter hour.
    late = [
        cdr_record(flow_no=2, start=base - timedelta(hours=2), fee=Decimal("0.5")),
        cdr_record(flow_no=3, start=base + timedelta(minutes=14), fee=Decimal("0.25")),
        cdr_record(flow_no=1, start=base, fee=Decimal("1")),  # already stored
    ]

    assert cdrs_store(server=server, records=late) == 2
    assert rollups() == raw_buckets()
    assert rollups()[(server.pk, "1001", base)][4] == Decimal("1.25")


@pytest.mark.parametrize("zone", ZONES)
def test_every_local_day_adds_up_from_the_rollups_exactly(server, zone):
    tz = ZoneInfo(zone)
    # New York's 2 November 2025 has 25 hours (summer time ends).
    first = date(2025, 10, 30)
    cdrs_store(server=server, records=records_around_midnights(tz, first, days=6))
    account = VosAccountFactory(server=server, account="1001")

    series = spend_by_day(account, first=first, last=first + timedelta(days=5), tz=tz)
    for day in series:
        start, end = day_bounds(day.day, day.day, tz)
        raw = calls_for(account, start=start, end=end)
        assert day.calls == raw.count() > 0
        assert day.amount == sum((c.fee for c in raw), Decimal("0"))
        totals = period_totals(account, start=start, end=end)
        assert (totals.calls, totals.cost) == (day.calls, day.amount)
        assert totals.talk_seconds == sum(c.hold_time for c in raw)


def test_a_range_cut_mid_quarter_hour_takes_its_edges_from_the_raw_rows(server):
    base = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    cdrs_store(
        server=server,
        records=[
            cdr_record(flow_no=n, start=base + timedelta(minutes=n), fee=Decimal("1"))
            for n in range(60)
        ],
    )
    account = VosAccountFactory(server=server, account="1001")

    totals = period_totals(
        account, start=base + timedelta(minutes=7, seconds=30), end=base + timedelta(minutes=52)
    )
    assert totals.calls == 44  # minutes 8..51
    assert totals.cost == Decimal("44")


def test_retention_keeps_the_rollups_and_old_statements_still_add_up(server, settings):
    tz = ZoneInfo("Asia/Kolkata")
    old = date(2025, 1, 10)
    cdrs_store(server=server, records=records_around_midnights(tz, old, days=3))
    account = VosAccountFactory(server=server, account="1001", balance=Decimal("100"))
    account.balance_as_of = timezone.now()
    start, end = day_bounds(old, old + timedelta(days=2), tz)
    before = statement_for(account, start=start, end=end)
    stored = rollups()
    assert before.period.calls > 0

    removed = cdrs.cdrs_prune(before=datetime(2025, 6, 1, tzinfo=UTC))

    assert removed == len(records_around_midnights(tz, old, days=3))
    assert Cdr.objects.count() == 0
    assert rollups() == stored
    after = statement_for(account, start=start, end=end)
    assert after.period.calls == before.period.calls
    assert after.call_count == before.call_count
    assert (after.opening, after.closing) == (before.opening, before.closing)
    assert after.adds_up


def test_a_rebuild_restores_the_rollups_and_keeps_those_of_pruned_rows(server):
    cdrs_store(
        server=server,
        records=records_around_midnights(ZoneInfo("Asia/Kathmandu"), date(2025, 1, 1), 2),
    )
    cdrs.cdrs_prune(before=datetime(2025, 6, 1, tzinfo=UTC))
    pruned = rollups()
    recent = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    cdrs_store(
        server=server,
        records=[
            cdr_record(flow_no=900 + n, start=recent + timedelta(minutes=7 * n)) for n in range(9)
        ],
    )
    expected = rollups()
    CdrRollup.objects.filter(bucket__gte=recent).update(calls=999, cost=Decimal("-1"))
    CdrRollup.objects.filter(bucket=recent).delete()

    call_command("cdr_rollups_rebuild", "--server", server.name)

    assert rollups() == expected
    assert {k: v for k, v in expected.items() if k[2] < recent} == pruned


def test_the_dashboards_today_is_the_calls_pages_today_in_the_users_zone(
    customer_client,  # noqa: F811
    offline_account,  # noqa: F811
):
    """With Asia/Shanghai chosen, both pages sum the user's own day from the call records."""
    profile = customer_client.get("/my/").wsgi_request.user.profile
    profile.time_zone = "Asia/Shanghai"
    profile.save()
    shanghai = ZoneInfo("Asia/Shanghai")
    today = timezone.now().astimezone(shanghai).date()
    midnight = datetime.combine(today, datetime.min.time(), shanghai)
    VosAccount.objects.filter(pk=offline_account.pk).update(
        today_consumption=Decimal("9.99"), balance_as_of=timezone.now()
    )
    records = [
        # Yesterday in Shanghai but today on the switch's UTC clock (16:00-24:00 UTC).
        cdr_record(flow_no=1, start=midnight - timedelta(minutes=1), fee=Decimal("1.62")),
        cdr_record(flow_no=2, start=midnight, fee=Decimal("0.86")),
        cdr_record(flow_no=3, start=midnight + timedelta(seconds=1), fee=Decimal("0.01")),
    ]
    cdrs_store(server=offline_account.server, records=records)

    dashboard = customer_client.get("/my/")
    calls = customer_client.get("/my/calls/")

    assert dashboard.context["spent_today"].amount == Decimal("0.87")
    assert calls.context["totals"].cost == Decimal("0.87")
    html = dashboard.content.decode()
    assert 'data-figure="today">USD 0.87<' in html.replace("\xa0", " ")
    assert "switch-today" in html and "9.99" in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL partitions")
def test_postgresql_stores_calls_in_monthly_partitions_and_retention_drops_months(server):
    assert cdr_partitions.is_partitioned()
    far = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
    old = datetime(2024, 2, 3, 12, 0, tzinfo=UTC)
    cdrs_store(
        server=server, records=[cdr_record(flow_no=1, start=far), cdr_record(flow_no=2, start=old)]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM telephony_cdr ORDER BY start")
        assert [r[0] for r in cursor.fetchall()] == ["telephony_cdr_default"] * 2

    created = cdr_partitions.partitions_ensure(first=date(2031, 5, 1), months_ahead=0, now=far)
    assert created == ["telephony_cdr_p203105"]
    assert cdr_partitions.partitions_ensure(first=date(2031, 5, 1), months_ahead=0, now=far) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM telephony_cdr WHERE flow_no = 1")
        assert cursor.fetchone()[0] == "telephony_cdr_p203105"
    this_month = cdr_partitions.partition_name(cdr_partitions.month_first(timezone.now()))
    assert this_month in {
        cdr_partitions.partition_name(m) for m in cdr_partitions.partition_months()
    }

    stored = rollups()
    assert cdrs.cdrs_prune(before=datetime(2031, 6, 1, tzinfo=UTC)) == 2
    assert "telephony_cdr_p203105" not in {
        cdr_partitions.partition_name(m) for m in cdr_partitions.partition_months()
    }
    assert rollups() == stored


def test_a_call_older_than_the_retention_is_not_stored_again(server, settings):
    """Its raw row may be gone while its rollup stays: storing it would count it twice."""
    settings.CDR_RETENTION_DAYS = 30
    old = cdr_record(flow_no=1, start=timezone.now() - timedelta(days=31))
    new = cdr_record(flow_no=2, start=timezone.now() - timedelta(days=29))

    assert cdrs_store(server=server, records=[old, new]) == 1
    assert rollups() == raw_buckets()


def _profile_zone(client, zone: str) -> None:
    profile = client.get("/my/").wsgi_request.user.profile
    profile.time_zone = zone
    profile.save()


def test_the_csv_export_formats_in_the_database_what_python_would(
    customer_client,  # noqa: F811
    offline_account,  # noqa: F811
):
    """Local times across a summer-time change, money, labels and formula-safe cells."""
    import csv
    import io

    from telephony.countries import number_country
    from telephony.csvsafe import csv_cell
    from telephony.labels import end_reason, hangup_side

    _profile_zone(customer_client, "America/New_York")
    tz = ZoneInfo("America/New_York")
    change = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 02:00 EDT -> 01:00 EST
    records = [
        cdr_record(
            flow_no=n,
            start=change + timedelta(minutes=25 * n, microseconds=999999 * (n % 2)),
            caller_e164=("=HYPERLINK(1)", "+8613800001001", "-1+2", "8613800001001")[n % 4],
            fee=Decimal(n) / Decimal("7000"),
            end_direction=n % 4,
            end_reason=(16, 17, -9, 999)[n % 4],
        )
        for n in range(-6, 6)
    ]
    cdrs_store(server=offline_account.server, records=records)

    response = customer_client.get(
        reverse("customer:calls_csv"), {"start": "2026-10-31", "end": "2026-11-01"}
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))[1:]

    stored = Cdr.objects.order_by("-start", "-id")
    assert rows == [
        [
            c.start.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            csv_cell(c.caller_e164),
            csv_cell(c.callee_e164),
            str(c.hold_time),
            str(c.fee_time),
            format(c.fee, "f"),
            hangup_side(c.end_direction),
            end_reason(c.end_reason),
            csv_cell(number_country(c.callee_e164, "en")),
        ]
        for c in stored
    ]
    assert len(rows) == 12


def test_a_prefix_search_finds_exactly_the_numbers_starting_with_it(server):
    account = VosAccountFactory(server=server, account="1001")
    numbers = ["8613", "86139", "8613999", "861", "8614", "98613", "86:", "8612~"]
    base = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    cdrs_store(
        server=server,
        records=[
            cdr_record(
                flow_no=n, start=base + timedelta(minutes=n), caller_e164=number, callee_e164="0"
            )
            for n, number in enumerate(numbers)
        ],
    )
    window = {"start": base, "end": base + timedelta(days=1)}
    found = calls_for(account, **window, search="8613").values_list("caller_e164", flat=True)
    assert sorted(found) == ["8613", "86139", "8613999"]
    contains = calls_for(account, **window, search="8613", match="contains")
    assert contains.count() == 4


def test_a_substring_search_over_many_calls_offers_a_shorter_window(
    customer_client,  # noqa: F811
    offline_account,  # noqa: F811
    monkeypatch,
):
    from billing import call_views

    monkeypatch.setattr(call_views, "SLOW_SEARCH_CALLS", 3)
    today = timezone.localdate()
    now = timezone.now()
    cdrs_store(
        server=offline_account.server,
        records=[cdr_record(flow_no=n, start=now - timedelta(hours=n)) for n in range(5)],
    )
    long = {"start": (today - timedelta(days=20)).isoformat(), "end": today.isoformat()}

    slow = customer_client.get("/my/calls/", {**long, "q": "1380", "match": "contains"})
    prefix = customer_client.get("/my/calls/", {**long, "q": "8613"})
    short = customer_client.get(
        "/my/calls/",
        {"start": today.isoformat(), "end": today.isoformat(), "q": "1380", "match": "contains"},
    )

    assert 'id="slow-search"' in slow.content.decode()
    assert f"start={(today - timedelta(days=6)).isoformat()}" in slow.context["slow_search"]
    assert not prefix.context["slow_search"] and not short.context["slow_search"]
