"""Rates: the mirror job, the page (own group only), search, CSV, "How long can I talk?"."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from telephony.models import FeeRate, FeeRateTable, Phone, SyncState
from telephony.rate_selectors import rate_for_number, rate_table, rates_search
from telephony.services.jobs import server_job_run
from telephony.services.rates import rates_sync
from tests.billing.factories import demo_world


@pytest.fixture
def world(vos_server, vos_client):
    world = demo_world(vos_server, vos_client)
    rates_sync(server=vos_server, client=vos_client)
    return world


@pytest.fixture
def customer_client(client, world):
    client.force_login(world.customer)
    return client


# --- the mirror job -------------------------------------------------------------------------


def test_the_job_mirrors_every_group_in_use_with_the_time_read(
    vos_server, vos_client, vos_emulator
):
    demo_world(vos_server, vos_client)
    outcome = server_job_run(server=vos_server, job=SyncState.Job.RATES)
    groups = set(FeeRateTable.objects.values_list("group", flat=True))
    assert groups == {"retail-std", "wholesale", "深圳标准", "agent-cost"}
    assert outcome.rows == FeeRate.objects.count() == 4 * 170
    table = FeeRateTable.objects.get(group="retail-std")
    assert table.read_at is not None and table.rate_count == 170
    jamaica = FeeRate.objects.get(table=table, prefix="1876")
    assert jamaica.sections == [
        {"fee": "0.2000", "time": 30, "position": 1},
        {"fee": "0.1000", "time": 30, "position": 2},
    ]
    assert SyncState.objects.get(server=vos_server, job="rates").last_success_at


def test_running_the_job_twice_stores_the_same_table(world, vos_server, vos_client):
    first = FeeRate.objects.count()
    rates_sync(server=vos_server, client=vos_client)
    assert FeeRate.objects.count() == first


def test_a_garbled_switch_keeps_the_last_table(world, vos_server, vos_client, vos_emulator):
    before = FeeRate.objects.count()
    vos_emulator.faults.update({"garbage_mode": "html", "garbage_interfaces": "GetFeeRate"})
    with pytest.raises(Exception, match="GetFeeRate"):
        rates_sync(server=vos_server, client=vos_client)
    assert FeeRate.objects.count() == before


def test_garbage_records_are_skipped_never_stored(world, vos_server, vos_client, vos_emulator):
    vos_emulator.faults.update({"garbage_mode": "huge", "garbage_interfaces": "GetFeeRate"})
    rates_sync(server=vos_server, client=vos_client)
    assert not FeeRate.objects.filter(fee__gt=Decimal("1e10")).exists()


# --- lookups ----------------------------------------------------------------------------------


def test_longest_prefix_wins_as_the_switch_bills(world):
    table = rate_table(server=world.server, group="retail-std")
    assert rate_for_number(table=table, number="447700900123").prefix.startswith("447")
    assert rate_for_number(table=table, number="8613800001002").prefix == "861380000"
    assert rate_for_number(table=table, number="18765550000").prefix == "1876"


@pytest.mark.parametrize(
    ("query", "language", "expected"),
    [
        ("Jamaica", "en", "1876"),
        ("牙买加", "zh-hans", "1876"),
        ("尼泊尔", "zh-hans", "9771"),
        ("nepal", "en", "977"),
        ("Kathmandu", "en", "9771"),
        ("美國", "zh-hant", "1212"),
        ("牙買加", "zh-hant", "1876"),
        ("尼泊爾", "zh-hant", "9771"),
    ],
)
def test_search_by_area_or_country_in_the_users_language(world, query, language, expected):
    table = rate_table(server=world.server, group="retail-std")
    found = {rate.prefix for rate in rates_search(table=table, query=query, language=language)}
    assert expected in found


def test_country_search_does_not_bring_other_countries_sharing_the_code(world):
    table = rate_table(server=world.server, group="retail-std")
    found = {rate.prefix for rate in rates_search(table=table, query="Jamaica", language="en")}
    assert "1212" not in found and "1" not in found


# --- the page ------------------------------------------------------------------------------


def test_the_customer_sees_their_own_groups_rates(customer_client, world):
    response = customer_client.get(reverse("customer:rates"))
    assert response.status_code == 200
    assert response.context["table"].group == "retail-std"
    assert "Jamaica" in response.content.decode()
    assert response.context["page"].paginator.count == 170


def test_a_search_by_number_shows_the_billed_prefix(customer_client):
    response = customer_client.get(reverse("customer:rates"), {"q": "+44 7700 900123"})
    billed = response.context["billed"]
    assert billed.prefix.startswith("447")
    assert f"is billed at prefix {billed.prefix}" in response.content.decode()


def test_the_page_shows_country_names_in_chinese(customer_client):
    with translation.override("zh-hans"):
        response = customer_client.get(
            reverse("customer:rates"), {"q": "1876"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    assert "牙买加" in response.content.decode()


def test_a_traditional_chinese_search_finds_the_country_and_names_it_so(customer_client):
    with translation.override("zh-hant"):
        response = customer_client.get(
            reverse("customer:rates"), {"q": "美國"}, HTTP_ACCEPT_LANGUAGE="zh-TW"
        )
    html = response.content.decode()
    found = {rate.prefix for rate in response.context["rates"]}
    assert found >= {"1212", "1310"} and "1876" not in found
    assert "美國" in html and "美国" not in html


def test_the_csv_is_the_whole_table(customer_client):
    response = customer_client.get(reverse("customer:rates_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Prefix"
    assert len(rows) == 171
    jamaica = next(r for r in rows if r[0] == "1876")
    assert jamaica[2] == "Jamaica" and jamaica[5] == "6" and "30 s" in jamaica[6]


def test_a_reseller_sees_each_customers_own_group(client, world):
    client.force_login(world.reseller)
    response = client.get(reverse("reseller:customer_rates", args=["1004"]))
    assert response.context["table"].group == "wholesale"
    assert client.get(reverse("reseller:customer_rates_csv", args=["1004"])).status_code == 200


@pytest.mark.parametrize("account", ["2001", "agent01", "nobody"])
def test_a_reseller_cannot_reach_another_resellers_customer_rates(client, world, account):
    client.force_login(world.reseller)
    assert client.get(reverse("reseller:customer_rates", args=[account])).status_code == 404
    assert client.get(reverse("reseller:customer_rates_csv", args=[account])).status_code == 404


def test_a_customer_cannot_reach_reseller_rate_pages(customer_client):
    url = reverse("reseller:customer_rates", args=["1001"])
    assert customer_client.get(url).status_code == 404


# --- How long can I talk? -------------------------------------------------------------------


def test_talk_time_is_shown_in_minutes(customer_client, world, vos_emulator):
    response = customer_client.get(reverse("customer:rates"), {"number": "447700900123"})
    talk = response.context["talk"]
    assert talk["minutes"] > 0
    assert vos_emulator.calls["GetAvailableTime"] == 1
    assert "You can talk to 447700900123 for about" in response.content.decode()


def test_talk_time_shows_the_switchs_refusal(customer_client, world, vos_emulator):
    response = customer_client.get(reverse("customer:rates"), {"number": "8815551234"})
    assert response.context["talk"]["refused"] == "Calls to this destination are blocked."


def test_a_bad_number_is_a_field_error_and_nothing_is_asked(customer_client, vos_emulator):
    response = customer_client.get(reverse("customer:rates"), {"number": "12ab"})
    assert response.context["talk_form"].errors["number"]
    assert vos_emulator.calls["GetAvailableTime"] == 0


def test_a_hanging_switch_is_a_notice_within_the_page_budget(
    customer_client, world, vos_emulator, settings
):
    settings.VOS_PAGE_TIMEOUT = 0.5
    Phone.objects.create(server=world.server, e164="8613800001001", account="1001")
    vos_emulator.faults.update({"garbage_mode": "hang", "garbage_interfaces": "GetAvailableTime"})
    started = time.monotonic()
    response = customer_client.get(reverse("customer:rates"), {"number": "447700900123"})
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert "did not answer in time" in response.context["talk"]["notice"]
