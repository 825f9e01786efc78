from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from telephony.selectors import calls_for, calls_page, calls_totals
from tests.portal.factories import mirror_from_emulator
from tests.telephony.factories import CdrFactory

pytest_plugins = ["tests.portal.fixtures"]

CALLS = reverse("customer:calls")
CSV = reverse("customer:calls_csv")


def _cdr(account, **fields):
    return CdrFactory(server=account.server, account=account.account, **fields)


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_calls_default_to_today(customer_client, offline_account):
    _cdr(offline_account, callee_e164="861000000001")
    _cdr(offline_account, callee_e164="861000000002", start=timezone.now() - timedelta(days=2))
    response = customer_client.get(CALLS)
    html = response.content.decode()
    assert "861000000001" in html and "861000000002" not in html
    assert response.context["totals"].calls == 1


@pytest.mark.django_db
def test_calls_filter_by_date_range_number_and_outcome(customer_client, offline_account):
    now = timezone.now()
    _cdr(offline_account, callee_e164="447700900123", start=now - timedelta(days=3))
    _cdr(
        offline_account,
        callee_e164="8613912345678",
        start=now - timedelta(days=3),
        hold_time=0,
        fee_time=0,
        fee=0,
    )
    _cdr(
        offline_account,
        caller_e164="8613700009999",
        callee_e164="15550001",
        start=now - timedelta(days=1),
    )
    first = (timezone.localdate() - timedelta(days=5)).isoformat()
    last = timezone.localdate().isoformat()

    def shown(**params):
        response = customer_client.get(CALLS, {"start": first, "end": last, **params})
        return {c.callee_e164 for c in response.context["calls"]}

    assert shown() == {"447700900123", "8613912345678", "15550001"}
    assert shown(q="4477") == {"447700900123"}
    assert shown(q="0090", match="contains") == {"447700900123"}
    assert shown(q="0090") == set()  # prefix by default
    assert shown(q="861370") == {"15550001"}  # matches the caller too
    assert shown(outcome="answered") == {"447700900123", "15550001"}
    assert shown(outcome="unanswered") == {"8613912345678"}


@pytest.mark.django_db
def test_calls_refuse_ranges_longer_than_92_days_and_reversed_ranges(customer_client):
    response = customer_client.get(CALLS, {"start": "2025-01-01", "end": "2025-04-03"})
    assert "Choose at most 92 days." in response.content.decode()
    assert "calls" not in response.context
    assert (
        customer_client.get(CALLS, {"start": "2025-01-01", "end": "2025-04-02"}).context["totals"]
        is not None
    )
    response = customer_client.get(CALLS, {"start": "2025-02-01", "end": "2025-01-01"})
    assert "The end date is before the start date." in response.content.decode()
    response = customer_client.get(CALLS, {"q": "abc"})
    assert "Enter digits only" in response.content.decode()


@pytest.mark.django_db
def test_calls_totals_count_minutes_and_cost_over_the_whole_filter(
    customer_client, offline_account
):
    for _ in range(3):
        _cdr(offline_account, hold_time=30, fee_time=60, fee=Decimal("0.1234"))
    _cdr(offline_account, hold_time=0, fee_time=0, fee=Decimal("0"))
    totals = customer_client.get(CALLS).context["totals"]
    assert (totals.calls, totals.answered) == (4, 3)
    assert totals.billed_seconds == 180 and totals.billed_minutes == Decimal("3.0")
    assert totals.cost == Decimal("0.3702")


@pytest.mark.django_db
def test_calls_page_older_and_newer_walk_every_call_once(customer_client, offline_account):
    now = timezone.now().replace(microsecond=0)
    same_second = now - timedelta(minutes=30)
    for i in range(118):
        # Several calls share a start time: the id breaks the tie.
        start = same_second if i < 5 else now - timedelta(minutes=i)
        _cdr(offline_account, callee_e164=f"86100{i:06d}", start=start)
    first = (timezone.localdate() - timedelta(days=1)).isoformat()
    params = {"start": first, "end": timezone.localdate().isoformat()}
    seen, pages, cursor = [], [], None
    while True:
        response = customer_client.get(CALLS, {**params, **({"older": cursor} if cursor else {})})
        page = response.context["page"]
        pages.append(page)
        seen += [c.id for c in page.calls]
        if not page.older:
            break
        cursor = page.older
    assert [len(p.calls) for p in pages] == [50, 50, 18]
    assert len(seen) == len(set(seen)) == 118
    starts = [(c.start, c.id) for p in pages for c in p.calls]
    assert starts == sorted(starts, reverse=True)
    back = customer_client.get(CALLS, {**params, "newer": pages[2].newer}).context["page"]
    assert [c.id for c in back.calls] == [c.id for c in pages[1].calls]
    assert pages[0].newer is None and pages[1].newer


@pytest.mark.django_db
def test_a_garbled_cursor_shows_the_first_page(customer_client, offline_account):
    _cdr(offline_account)
    response = customer_client.get(CALLS, {"older": "x_y"})
    assert response.status_code == 200 and len(response.context["calls"]) == 1


@pytest.mark.django_db
def test_calls_show_start_times_in_the_users_time_zone(customer_client, customer, offline_account):
    customer.profile.time_zone = "Asia/Shanghai"
    customer.profile.save()
    start = (
        timezone.now()
        .astimezone(ZoneInfo("Asia/Shanghai"))
        .replace(hour=9, minute=15, second=7, microsecond=0)
    )
    _cdr(offline_account, start=start)
    day = start.date().isoformat()
    html = customer_client.get(CALLS, {"start": day, "end": day}).content.decode()
    assert f"{day} 09:15:07" in html
    rows = _csv_rows(customer_client.get(CSV, {"start": day, "end": day}))
    assert rows[1][0] == f"{day} 09:15:07"


@pytest.mark.django_db
def test_csv_export_streams_the_current_filter_with_a_bom(customer_client, offline_account):
    _cdr(
        offline_account,
        callee_e164="447700900123",
        fee=Decimal("0.1234"),
        hold_time=75,
        fee_time=90,
        end_direction=1,
        end_reason=17,
    )
    _cdr(offline_account, callee_e164="=HYPERLINK()", hold_time=0, fee_time=0)
    _cdr(offline_account, callee_e164="8613912345678", start=timezone.now() - timedelta(days=3))
    response = customer_client.get(CSV)
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="calls-1001-')
    rows = _csv_rows(response)
    # The start names the time zone its times are in, the cost its currency.
    assert rows[0] == [
        f"Start ({timezone.get_current_timezone_name()})",
        "Caller",
        "Callee",
        "Duration (s)",
        "Billed (s)",
        f"Cost ({settings.PORTAL_CURRENCY})",
        "Hang-up side",
        "End reason",
        "Callee country",
    ]
    assert len(rows) == 3
    by_callee = {r[2]: r for r in rows[1:]}
    assert by_callee["447700900123"][3:] == [
        "75",
        "90",
        "0.1234",
        "Callee",
        "Busy (17)",
        "United Kingdom",
    ]
    assert by_callee["'=HYPERLINK()"][8] == ""
    assert "'=HYPERLINK()" in by_callee  # a spreadsheet shows it, never runs it
    answered = customer_client.get(CSV, {"outcome": "answered"})
    assert [r[2] for r in _csv_rows(answered)[1:]] == ["447700900123"]


@pytest.mark.django_db
def test_csv_export_keeps_chinese_text_and_handles_many_rows(customer_client, offline_account):
    now = timezone.now()
    rows = [
        dict(
            server=offline_account.server,
            natural_key=f"bulk{i}",
            account="1001",
            caller_e164="8613800001001",
            callee_e164=f"王{i}",
            start=now - timedelta(seconds=i),
            stop=now,
            fee=Decimal("0.01"),
        )
        for i in range(5000)
    ]
    from telephony.models import Cdr

    Cdr.objects.bulk_create([Cdr(**r) for r in rows])
    # The rows span 83 minutes back from now: the window takes yesterday in as well.
    window = {"start": (now - timedelta(days=1)).date().isoformat(), "end": now.date().isoformat()}
    parsed = _csv_rows(customer_client.get(CSV, window))
    assert len(parsed) == 5001
    assert parsed[1][2] == "王0"


@pytest.mark.django_db
def test_invalid_csv_filters_send_the_customer_back_to_the_form(customer_client):
    response = customer_client.get(CSV, {"start": "2025-01-01", "end": "2025-12-31"})
    assert response.status_code == 302
    assert response["Location"].startswith(CALLS)


@pytest.mark.django_db
def test_calls_page_query_count_is_constant(
    customer_client, offline_account, django_assert_max_num_queries
):
    for _ in range(60):
        _cdr(offline_account)
    with django_assert_max_num_queries(8):
        response = customer_client.get(CALLS)
    assert len(response.context["calls"]) == 50


@pytest.mark.django_db
def test_calls_for_and_totals_are_public_for_other_pages(offline_account):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    _cdr(offline_account, start=start + timedelta(hours=1), fee=Decimal("2"))
    _cdr(offline_account, start=start + timedelta(days=2), fee=Decimal("3"))
    window = {"start": start, "end": start + timedelta(days=1)}
    assert calls_for(offline_account, **window).count() == 1
    assert calls_totals(offline_account, **window).cost == Decimal("2")
    assert len(calls_page(calls_for(offline_account, **window)).calls) == 1


@pytest.mark.django_db
def test_calls_page_matches_the_emulators_own_call_records(emu_client, vos_emulator, vos_server):
    mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    day = timezone.localdate() - timedelta(days=1)
    begin, end = (
        datetime.combine(d, datetime.min.time(), tzinfo=UTC) for d in (day, day + timedelta(days=1))
    )
    expected = [
        c
        for c in vos_emulator.state.cdrs
        if c["account"] == "1001"
        and begin.timestamp() * 1000 <= c["start"] < end.timestamp() * 1000
    ]
    totals = emu_client.get(CALLS, {"start": day.isoformat(), "end": day.isoformat()}).context[
        "totals"
    ]
    assert totals.calls == len(expected) > 0
    assert totals.cost == sum((Decimal(str(c["fee"])) for c in expected), Decimal("0"))


@pytest.mark.django_db
def test_the_calls_page_names_the_time_zone_it_shows(customer_client, customer):
    customer.profile.time_zone = "Asia/Shanghai"
    customer.profile.save()
    html = customer_client.get(reverse("customer:calls")).content.decode()
    assert "Times are shown in your time zone, Asia/Shanghai." in html


@pytest.mark.django_db
def test_dates_have_one_style_per_language():
    from datetime import date, datetime

    from django.utils import formats, translation

    moment = datetime(2026, 12, 1, 13, 49)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            styles = {
                formats.date_format(moment, name)
                for name in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT")
            }
            assert styles == {"2026-12-01 13:49"}
            assert formats.date_format(date(2026, 12, 1), "DATE_FORMAT") == "2026-12-01"
    with translation.override("zh-hans"):
        assert formats.date_format(date(2026, 11, 2), "MONTH_DAY_FORMAT") == "11月2日"


def test_the_call_list_shows_the_callee_country_in_the_users_language(
    customer_client, offline_account
):
    _cdr(offline_account, callee_e164="18765550123")
    html = customer_client.get(CALLS).content.decode()
    assert '<span class="muted small country">Jamaica</span>' in html
    customer_client.cookies["django_language"] = "zh-hans"
    html = customer_client.get(CALLS, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "牙买加" in html


@pytest.mark.django_db
def test_window_totals_are_read_once_per_call_sync(customer_client, offline_account):
    """The unfiltered window's totals are cached under the end of the last call sync: calls
    stored since show once a sync has finished, never a stale figure after it."""
    from telephony.models import SyncState

    day = timezone.localdate() - timedelta(days=1)
    params = {"start": day.isoformat(), "end": day.isoformat()}
    noon = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=12)
    _cdr(offline_account, start=noon, fee=Decimal("1.5"), callee_e164="15550001")
    state = SyncState.objects.create(
        server=offline_account.server, job=SyncState.Job.CDRS, last_success_at=timezone.now()
    )
    assert customer_client.get(CALLS, params).context["totals"].calls == 1
    _cdr(
        offline_account, start=noon + timedelta(minutes=1), fee=Decimal("2"), callee_e164="15550002"
    )
    # Stored without a sync finishing: the page still shows what the last sync brought...
    assert customer_client.get(CALLS, params).context["totals"].calls == 1
    # ...and the next sync's end shows it, to the cent.
    state.last_success_at = timezone.now() + timedelta(seconds=1)
    state.save()
    totals = customer_client.get(CALLS, params).context["totals"]
    assert (totals.calls, totals.cost) == (2, Decimal("3.5000"))
    # A filtered view adds the raw rows each time.
    _cdr(offline_account, start=noon + timedelta(minutes=2), callee_e164="8613900000001")
    filtered = customer_client.get(CALLS, {**params, "q": "86139", "totals": "1"})
    assert filtered.context["totals"].calls == 1


TOTALS = reverse("customer:calls_totals")


@pytest.mark.django_db
def test_a_filtered_views_totals_come_by_a_request_of_their_own(customer_client, offline_account):
    """A number or outcome filter adds up raw rows: the page shows its rows at once and a
    placeholder that its script fills from customer:calls_totals (or ?totals=1 without it)."""
    day = timezone.localdate()
    params = {"start": day.isoformat(), "end": day.isoformat(), "q": "86139"}
    _cdr(offline_account, callee_e164="8613900000001", fee=Decimal("1.25"))
    _cdr(offline_account, callee_e164="8613900000002", fee=Decimal("2"), hold_time=0)
    _cdr(offline_account, callee_e164="15550001", fee=Decimal("9"))
    page = customer_client.get(CALLS, params)
    html = page.content.decode()
    assert page.context["totals"] is None and "8613900000001" in html
    assert f'data-src="{TOTALS}?' in html and "js/calls-totals" in html
    part = customer_client.get(TOTALS, params)
    assert part.status_code == 200
    assert (part.context["totals"].calls, part.context["totals"].cost) == (2, Decimal("3.2500"))
    assert 'id="calls-totals"' in part.content.decode()
    inline = customer_client.get(CALLS, {**params, "totals": "1"})
    assert inline.context["totals"] == part.context["totals"]
    answered = customer_client.get(TOTALS, {**params, "outcome": "answered"}).context["totals"]
    assert answered.calls == 1
    assert customer_client.get(TOTALS, {**params, "start": "garbage"}).status_code == 400


@pytest.mark.django_db
def test_totals_past_their_budget_say_so_instead_of_waiting(
    customer_client, offline_account, monkeypatch
):
    from telephony.query_budget import QueryTooSlow

    def too_slow(*args, **kwargs):
        raise QueryTooSlow

    monkeypatch.setattr("billing.call_views.calls_totals", too_slow)
    day = timezone.localdate().isoformat()
    params = {"start": day, "end": day, "q": "86139"}
    part = customer_client.get(TOTALS, params)
    assert part.status_code == 200 and part.context["totals_too_slow"]
    assert 'data-figure="too-slow"' in part.content.decode()
    inline = customer_client.get(CALLS, {**params, "totals": "1"})
    assert inline.status_code == 200 and 'data-figure="too-slow"' in inline.content.decode()


@pytest.mark.django_db
def test_the_totals_request_adds_up_only_the_callers_own_calls(client, offline_account):
    from tests.accounts.factories import CustomerFactory, ResellerFactory
    from tests.telephony.factories import VosAccountFactory

    other = VosAccountFactory(server=offline_account.server, account="2002")
    _cdr(offline_account, callee_e164="8613900000001")
    _cdr(other, callee_e164="8613900000002")
    _cdr(other, callee_e164="8613900000003")
    day = timezone.localdate().isoformat()
    params = {"start": day, "end": day, "q": "86139"}
    client.force_login(CustomerFactory(vos_account=other))
    assert client.get(TOTALS, params).context["totals"].calls == 2
    client.force_login(ResellerFactory())
    assert client.get(TOTALS, params).status_code == 404
