from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.selectors import DaySpend, burn_rate, spend_by_day, spend_chart
from portal.templatetags.money import format_money
from tests.telephony.factories import CdrFactory

pytest_plugins = ["tests.portal.fixtures"]


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
def test_dashboard_falls_back_to_the_last_known_figures_when_vos_fails(emu_client, vos_emulator):
    emu_client.get(reverse("customer:dashboard"))  # a first good read
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
    now = timezone.now()
    for i in range(60):
        CdrFactory(
            server=offline_account.server, account="1001", start=now - timedelta(hours=i * 11)
        )
    with django_assert_max_num_queries(10):
        assert customer_client.get(reverse("customer:dashboard")).status_code == 200
