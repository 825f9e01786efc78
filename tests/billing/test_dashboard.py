from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.selectors import DaySpend, burn_rate, spend_by_day, spend_chart
from telephony.models import SyncState, VosAccount, VosServer
from telephony.money import format_money
from tests.telephony.factories import CdrFactory, SyncStateFactory

pytest_plugins = ["tests.portal.fixtures"]


def _age(account: VosAccount, *, seconds: int) -> None:
    """Make the mirror's figures ``seconds`` older than they are."""
    account.refresh_from_db()
    account.balance_as_of -= timedelta(seconds=seconds)
    account.save(update_fields=["balance_as_of"])


@pytest.mark.django_db
def test_dashboard_shows_the_figures_vos_reports_right_now(emu_client, vos_emulator):
    response = emu_client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    account = response.context["account"]
    state = vos_emulator.state
    assert account.balance == state.balance("1001")
    assert account.limit_money == state.customers["1001"]["limitMoney"]
    assert account.today_consumption == state.today_consumption("1001")
    html = response.content.decode()
    assert format_money(state.balance("1001")) in html
    assert "Figures refreshed from the switch" in html
    assert not response.context["vos_notice"]


@pytest.mark.django_db
def test_dashboard_falls_back_to_the_last_known_figures_when_vos_fails(
    emu_client, emu_account, vos_emulator
):
    emu_client.get(reverse("customer:dashboard"))  # a first good read
    _age(emu_account, seconds=3600)  # so the next view asks VOS again
    vos_emulator.faults.error_rate = 1.0
    response = emu_client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    assert response.context["stale"]
    assert response.context["vos_notice"].startswith("The figures below are as of")
    html = response.content.decode()
    assert "The switch is not answering right now." in html
    assert format_money(vos_emulator.state.balance("1001")) in html
    assert "Figures as of" in html


@pytest.mark.django_db
def test_dashboard_never_waits_on_a_slow_vos_for_more_than_the_page_timeout(
    emu_client, vos_emulator, settings
):
    settings.VOS_PAGE_TIMEOUT = 0.5
    vos_emulator.faults.latency_ms = 3000
    started = time.monotonic()
    response = emu_client.get(reverse("customer:dashboard"))
    assert time.monotonic() - started < 1.5
    assert response.status_code == 200
    assert response.context["stale"]


@pytest.mark.django_db
def test_dashboard_renders_when_vos_cannot_be_reached_at_all(customer_client):
    response = customer_client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    assert "No figures have been received" in response.content.decode()


@pytest.mark.django_db
def test_low_balance_warning_appears_below_the_profile_threshold(customer_client, customer):
    account = customer.profile.vos_account
    account.balance = Decimal("4.99")
    account.save()
    customer.profile.low_balance_threshold = Decimal("5")
    customer.profile.save()
    assert 'id="low-balance"' in customer_client.get(reverse("customer:dashboard")).content.decode()
    customer.profile.low_balance_threshold = Decimal("4.99")
    customer.profile.save()
    assert (
        'id="low-balance"'
        not in customer_client.get(reverse("customer:dashboard")).content.decode()
    )


@pytest.mark.django_db
def test_locked_accounts_say_so(customer_client, customer):
    account = customer.profile.vos_account
    account.locked = True
    account.save()
    html = customer_client.get(reverse("customer:dashboard")).content.decode()
    assert "Your account is locked." in html


@pytest.mark.django_db
def test_spend_per_day_follows_the_users_time_zone(offline_account):
    shanghai = ZoneInfo("Asia/Shanghai")
    # 23:30 UTC on the 1st is 07:30 on the 2nd in Shanghai.
    CdrFactory(
        server=offline_account.server,
        account="1001",
        start=datetime(2025, 3, 1, 23, 30, tzinfo=UTC),
        fee=Decimal("1.25"),
    )
    CdrFactory(
        server=offline_account.server,
        account="1001",
        start=datetime(2025, 3, 2, 1, 0, tzinfo=UTC),
        fee=Decimal("0.75"),
    )
    CdrFactory(
        server=offline_account.server,
        account="9999",
        start=datetime(2025, 3, 2, 1, 0, tzinfo=UTC),
        fee=Decimal("50"),
    )
    series = spend_by_day(
        offline_account, first=date(2025, 3, 1), last=date(2025, 3, 3), tz=shanghai
    )
    assert [(d.day.day, d.amount, d.calls) for d in series] == [
        (1, Decimal("0"), 0),
        (2, Decimal("2.0000"), 2),
        (3, Decimal("0"), 0),
    ]
    utc_series = spend_by_day(
        offline_account, first=date(2025, 3, 1), last=date(2025, 3, 3), tz=UTC
    )
    assert [d.amount for d in utc_series] == [Decimal("1.25"), Decimal("0.75"), Decimal("0")]


def test_burn_rate_divides_available_credit_by_the_average_of_the_last_seven_full_days():
    today = date(2025, 3, 10)
    series = [DaySpend(today - timedelta(days=i), Decimal("2"), 1) for i in range(30)]
    series[0] = DaySpend(today, Decimal("100"), 1)  # today is not over: not counted
    rate = burn_rate(series, available=Decimal("29"), today=today)
    assert rate.average == Decimal("2")
    assert rate.days_left == 14
    assert burn_rate(series, available=Decimal("-1"), today=today).exhausted
    idle = [DaySpend(today - timedelta(days=i), Decimal("0"), 0) for i in range(30)]
    assert burn_rate(idle, available=Decimal("10"), today=today).days_left is None


def test_spend_chart_scales_bars_to_the_highest_day():
    today = date(2025, 3, 10)
    series = [
        DaySpend(today - timedelta(days=2 - i), Decimal(a), 1)
        for i, a in enumerate(["0", "5", "10"])
    ]
    chart = spend_chart(series)
    assert [b.height for b in chart.bars] == [0, 50, 100]
    assert chart.total == Decimal("15") and chart.peak == Decimal("10")
    assert chart.labels == [today - timedelta(days=2), today - timedelta(days=1), today]


@pytest.mark.django_db
def test_dashboard_chart_and_burn_rate_come_from_the_local_call_records(
    customer_client, offline_account
):
    offline_account.balance = Decimal("30")
    offline_account.save()
    now = timezone.now()
    for days in range(1, 8):
        CdrFactory(
            server=offline_account.server,
            account="1001",
            start=now - timedelta(days=days),
            fee=Decimal("1.5"),
        )
    response = customer_client.get(reverse("customer:dashboard"))
    assert response.context["chart"].total == Decimal("10.5")
    assert response.context["burn"].days_left == 20
    assert "your balance lasts about <strong>20 days</strong>" in response.content.decode()


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_the_calls(
    customer_client, offline_account, django_assert_max_num_queries
):
    offline_account.balance_as_of = timezone.now()
    offline_account.save()
    now = timezone.now()
    for i in range(60):
        CdrFactory(
            server=offline_account.server, account="1001", start=now - timedelta(hours=i * 11)
        )
    # Session, user, profile, account, the spend per day, the call history's sync time.
    with django_assert_max_num_queries(8):  # +1: "On a call now" phones; +1: owes a 2nd factor?
        assert customer_client.get(reverse("customer:dashboard")).status_code == 200


# --- Live refresh only when the mirror is old -----------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_a_fresh_mirror_without_asking_vos(emu_client, emu_account, vos_emulator):
    emu_account.balance = Decimal("12.34")
    emu_account.balance_as_of = timezone.now() - timedelta(seconds=5)
    emu_account.save()
    response = emu_client.get(reverse("customer:dashboard"))
    assert response.status_code == 200
    assert vos_emulator.calls["GetCustomer"] == 0
    assert response.context["account"].balance == Decimal("12.34")
    assert not response.context["stale"] and not response.context["vos_notice"]
    html = response.content.decode()
    assert "Figures are as of" in html
    assert "Figures refreshed from the switch" not in html


@pytest.mark.django_db
def test_dashboard_asks_vos_when_the_mirror_is_older_than_the_window(
    emu_client, emu_account, vos_emulator, settings, django_assert_max_num_queries
):
    settings.DASHBOARD_REFRESH_AFTER_SECONDS = 30
    emu_account.balance_as_of = timezone.now() - timedelta(seconds=31)
    emu_account.save()
    with django_assert_max_num_queries(10):  # the refresh's write and read back; phones
        response = emu_client.get(reverse("customer:dashboard"))
    assert vos_emulator.calls["GetCustomer"] == 1
    assert response.context["account"].balance == vos_emulator.state.balance("1001")
    assert "Figures refreshed from the switch" in response.content.decode()
    # The read just stored makes the next view a mirror read.
    emu_client.get(reverse("customer:dashboard"))
    assert vos_emulator.calls["GetCustomer"] == 1


def test_a_recent_balance_sweep_vouches_for_figures_that_did_not_move(
    emu_client, emu_account, vos_emulator, settings
):
    settings.DASHBOARD_REFRESH_AFTER_SECONDS = 30
    written_at = timezone.now() - timedelta(hours=2)
    emu_account.balance_as_of = written_at
    emu_account.discovered_at = written_at - timedelta(days=1)
    emu_account.save()
    swept_at = timezone.now() - timedelta(seconds=5)
    VosServer.objects.filter(pk=emu_account.server_id).update(balances_confirmed_at=swept_at)

    response = emu_client.get(reverse("customer:dashboard"))

    assert vos_emulator.calls["GetCustomer"] == 0
    assert response.context["as_of"] == swept_at


# --- Days of the user's calendar --------------------------------------------------------------


def _local_days(starts: list[datetime], fees: list[Decimal], tz) -> dict[date, tuple]:
    days: dict[date, tuple] = {}
    for start, fee in zip(starts, fees, strict=True):
        day = start.astimezone(tz).date()
        amount, calls = days.get(day, (Decimal("0"), 0))
        days[day] = (amount + fee, calls + 1)
    return days


@pytest.mark.django_db
def test_spend_per_day_follows_a_summer_time_change(offline_account):
    new_york = ZoneInfo("America/New_York")
    # Summer time ends at 06:00 UTC on 2 November 2025 (02:00 EDT -> 01:00 EST): that
    # day has 25 hours, from 04:00 UTC on the 2nd to 05:00 UTC on the 3rd.
    moments = {
        datetime(2025, 11, 2, 3, 59, 59, 999999, tzinfo=UTC): "0.01",  # 23:59 EDT, 1 Nov
        datetime(2025, 11, 2, 4, 0, tzinfo=UTC): "0.02",  # 00:00 EDT, 2 Nov
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC): "0.04",  # 01:30 EDT
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC): "0.08",  # 01:30 EST, the hour again
        datetime(2025, 11, 3, 4, 30, tzinfo=UTC): "0.16",  # 23:30 EST, still 2 Nov
        datetime(2025, 11, 3, 4, 59, 59, 999999, tzinfo=UTC): "0.32",  # 23:59:59.999999
        datetime(2025, 11, 3, 5, 0, tzinfo=UTC): "0.64",  # 00:00 EST, 3 Nov
        datetime(2025, 10, 31, 3, 59, tzinfo=UTC): "1.28",  # 23:59 EDT, 30 Oct: outside
    }
    for start, fee in moments.items():
        CdrFactory(server=offline_account.server, account="1001", start=start, fee=Decimal(fee))
    series = spend_by_day(
        offline_account, first=date(2025, 10, 31), last=date(2025, 11, 3), tz=new_york
    )
    assert [(d.day.day, d.amount, d.calls) for d in series] == [
        (31, Decimal("0"), 0),
        (1, Decimal("0.01"), 1),
        (2, Decimal("0.62"), 5),
        (3, Decimal("0.64"), 1),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone, first",
    [
        ("UTC", date(2025, 3, 1)),
        ("Asia/Shanghai", date(2025, 3, 1)),
        ("Asia/Kolkata", date(2025, 3, 1)),  # +05:30
        ("Europe/London", date(2025, 3, 15)),  # summer time starts 30 March
        ("America/New_York", date(2025, 10, 20)),
        ("America/Santiago", date(2025, 3, 25)),  # changes at midnight (6 April)
        ("Australia/Lord_Howe", date(2025, 3, 25)),  # a half-hour change (6 April)
        ("Pacific/Chatham", date(2025, 9, 15)),  # +12:45 / +13:45
    ],
)
def test_spend_per_day_matches_each_calls_local_date(offline_account, zone, first):
    tz = ZoneInfo(zone)
    last = first + timedelta(days=29)
    window_start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    # Every 37 minutes and a few seconds, across 31 days: every hour and boundary is hit.
    starts = [
        (window_start - timedelta(days=1) + timedelta(seconds=i * 2227 + i % 7)).astimezone(UTC)
        for i in range(31 * 24 * 60 * 60 // 2227)
    ]
    fees = [Decimal(i % 13) / 100 for i in range(len(starts))]
    for start, fee in zip(starts, fees, strict=True):
        CdrFactory(server=offline_account.server, account="1001", start=start, fee=fee)
    expected = _local_days(starts, fees, tz)
    series = spend_by_day(offline_account, first=first, last=last, tz=tz)
    assert [d.day for d in series] == [first + timedelta(days=i) for i in range(30)]
    for d in series:
        amount, calls = expected.get(d.day, (Decimal("0"), 0))
        assert (d.day, d.amount, d.calls) == (d.day, amount, calls)


@pytest.mark.django_db
def test_dashboard_spend_shows_new_calls_once_the_call_sync_has_run(
    customer_client, offline_account
):
    offline_account.balance_as_of = timezone.now()
    offline_account.save()
    state = SyncStateFactory(
        server=offline_account.server,
        job=SyncState.Job.CDRS,
        last_success_at=timezone.now() - timedelta(minutes=5),
    )
    now = timezone.now()
    CdrFactory(server=offline_account.server, account="1001", start=now, fee=Decimal("1.5"))
    html = customer_client.get(reverse("customer:dashboard")).content.decode()
    assert f'data-figure="spend-30">{format_money(Decimal("1.5"))}<' in html
    CdrFactory(
        server=offline_account.server,
        account="1001",
        start=now - timedelta(days=1),
        fee=Decimal("2"),
    )
    state.last_success_at = timezone.now()
    state.save()
    response = customer_client.get(reverse("customer:dashboard"))
    assert response.context["chart"].total == Decimal("3.5")
    html = response.content.decode()
    assert f'data-figure="spend-30">{format_money(Decimal("3.5"))}<' in html


@pytest.mark.django_db
def test_the_kept_links_card_is_in_each_visitors_language(customer_client):
    """The links card is rendered once per language and process (the "fragments" cache):
    a visitor in another language gets that language's, never the first one's."""
    dashboard = reverse("customer:dashboard")
    english = customer_client.get(dashboard).content.decode()
    assert "Phone book</a>" in english
    customer_client.cookies["django_language"] = "zh-hans"
    chinese = customer_client.get(dashboard, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "电话簿</a>" in chinese and "Phone book</a>" not in chinese
    assert f'href="{reverse("customer:phonebook")}"' in chinese
