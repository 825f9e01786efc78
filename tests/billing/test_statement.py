from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import PayRecord
from billing.selectors import statement_for
from tests.portal.factories import ConsumptionFactory, PayRecordFactory, mirror_from_emulator
from tests.telephony.factories import CdrFactory

pytest_plugins = ["tests.portal.fixtures"]

STATEMENT = reverse("customer:statement")
MARCH = datetime(2025, 3, 1, tzinfo=UTC)
APRIL = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture
def march_history(offline_account):
    """Movements before, in and after March 2025; the known balance is 100 on 10 April."""
    server = offline_account.server
    offline_account.balance = Decimal("100")
    offline_account.balance_as_of = datetime(2025, 4, 10, tzinfo=UTC)
    offline_account.save()
    money = {"server": server, "account": "1001"}
    PayRecordFactory(**money, amount=Decimal("500"), paid_at=MARCH - timedelta(days=3))
    PayRecordFactory(**money, amount=Decimal("50"), paid_at=MARCH + timedelta(days=2))
    PayRecordFactory(**money, amount=Decimal("-5"), paid_at=MARCH + timedelta(days=3))
    PayRecordFactory(
        **money, amount=Decimal("7"), type=PayRecord.Type.CREDIT, paid_at=MARCH + timedelta(days=4)
    )
    PayRecordFactory(**money, amount=Decimal("20"), paid_at=APRIL + timedelta(days=2))
    CdrFactory(**money, start=MARCH + timedelta(days=5), fee=Decimal("3.5"))
    CdrFactory(**money, start=MARCH + timedelta(days=6), fee=Decimal("1.5"))
    CdrFactory(**money, start=APRIL + timedelta(days=1), fee=Decimal("4"))
    CdrFactory(**money, start=APRIL + timedelta(days=12), fee=Decimal("99"))  # after the anchor
    CdrFactory(server=server, account="1002", start=MARCH + timedelta(days=5), fee=Decimal("9"))
    ConsumptionFactory(**money, amount=Decimal("8"), at=MARCH + timedelta(days=1))
    ConsumptionFactory(**money, amount=Decimal("8"), at=APRIL + timedelta(hours=1))
    return offline_account


@pytest.mark.django_db
def test_statement_works_back_from_the_known_balance_and_adds_up(march_history):
    s = statement_for(march_history, start=MARCH, end=APRIL)
    assert s.period.payments == Decimal("45")  # 50 - 5
    assert s.period.adjustments == Decimal("7")
    assert s.period.calls == Decimal("5")
    assert s.period.other == Decimal("8")
    assert s.call_count == 2
    # April 1-10: +20 payment, -4 calls, -8 rent; so 31 March closed at 100 - 20 + 4 + 8.
    assert s.closing == Decimal("92")
    assert s.opening == Decimal("92") - (45 + 7 - 5 - 8)
    assert s.adds_up
    assert [p.amount for p in s.payment_rows] == [Decimal("7"), Decimal("-5"), Decimal("50")]
    assert [c.amount for c in s.charge_rows] == [Decimal("8")]


@pytest.mark.django_db
def test_consecutive_statements_chain(march_history):
    feb = statement_for(march_history, start=MARCH - timedelta(days=28), end=MARCH)
    march = statement_for(march_history, start=MARCH, end=APRIL)
    april = statement_for(
        march_history,
        start=APRIL,
        end=datetime(2025, 5, 1, tzinfo=UTC),
        now=datetime(2025, 5, 1, tzinfo=UTC),
    )
    assert feb.closing == march.opening
    assert march.closing == april.opening
    assert feb.opening == feb.closing - Decimal("500")


@pytest.mark.django_db
def test_a_period_ending_after_the_known_balance_adds_the_later_movements(march_history):
    now = datetime(2025, 4, 20, tzinfo=UTC)
    s = statement_for(march_history, start=APRIL, end=datetime(2025, 5, 1, tzinfo=UTC), now=now)
    assert s.end == now  # "to date"
    assert s.closing == Decimal("100") - Decimal("99")  # the call after the balance was read
    assert s.adds_up


@pytest.mark.django_db
def test_statement_page_shows_the_identity_for_a_month(customer_client, march_history):
    response = customer_client.get(STATEMENT, {"month": "2025-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "USD 92.00" in html
    assert "USD 53.00 + USD 45.00 + USD 7.00 − USD 5.00 − USD 8.00 = USD 92.00" in html
    assert response.context["statement"].adds_up


@pytest.mark.django_db
def test_statement_page_accepts_a_date_range_and_validates_it(customer_client, march_history):
    response = customer_client.get(STATEMENT, {"start": "2025-03-02", "end": "2025-03-05"})
    s = response.context["statement"]
    assert s.period.payments == Decimal("50") - Decimal("5")
    assert s.period.calls == 0
    response = customer_client.get(STATEMENT, {"start": "2025-03-05", "end": "2025-03-01"})
    assert response.context["statement"] is None
    assert "The end date is before the start date." in response.content.decode()
    response = customer_client.get(STATEMENT, {"month": "2025-13"})
    assert "Enter a month as YYYY-MM." in response.content.decode()
    response = customer_client.get(STATEMENT, {"start": "2023-01-01", "end": "2025-01-01"})
    assert "Choose at most 366 days." in response.content.decode()


@pytest.mark.django_db
def test_statement_defaults_to_this_month_to_date(customer_client):
    response = customer_client.get(STATEMENT)
    assert response.context["first"] == timezone.localdate().replace(day=1)
    assert response.context["to_date"]
    assert response.context["statement"].adds_up


@pytest.mark.django_db
def test_statement_query_count_is_small(
    customer_client, march_history, django_assert_max_num_queries
):
    # Call charges: the rollups of each window plus the raw rows of a partial quarter hour
    # at its edge (the anchor's moment), and "owes a second factor?": constant, whatever the
    # history's size.
    with django_assert_max_num_queries(13):
        customer_client.get(STATEMENT, {"month": "2025-03"})


@pytest.mark.django_db
def test_statement_of_the_emulators_whole_history_opens_at_zero(
    emu_client, emu_account, vos_emulator, vos_server
):
    """With every movement mirrored, working back from today's balance reaches the balance
    before the account existed: zero."""
    mirror_from_emulator(emulator=vos_emulator, server=vos_server, account="1001")
    first = timezone.localdate() - timedelta(days=120)
    response = emu_client.get(
        STATEMENT, {"start": first.isoformat(), "end": timezone.localdate().isoformat()}
    )
    s = response.context["statement"]
    assert s.opening == Decimal("0")
    assert s.closing == vos_emulator.state.balance("1001")
    assert s.adds_up


@pytest.mark.django_db
def test_a_statement_is_kept_until_a_sync_or_the_balance_moves(march_history):
    """statement_kept: the same figures as statement_for, read once per state of what they
    are worked out from; a finished sync or a new known balance shows at once."""
    from billing.selectors import statement_kept

    money = {"server": march_history.server, "account": "1001"}
    synced = [datetime(2025, 4, 10, tzinfo=UTC)]
    first = statement_kept(march_history, start=MARCH, end=APRIL, synced=synced)
    assert first == statement_for(march_history, start=MARCH, end=APRIL)
    PayRecordFactory(**money, amount=Decimal("10"), paid_at=MARCH + timedelta(days=9))
    # Stored without a sync finishing (and without the balance moving): still what it was.
    kept = statement_kept(march_history, start=MARCH, end=APRIL, synced=synced)
    assert kept.period.payments == Decimal("45")
    # The pay-history sync that brought the record ends: the statement has it.
    later = [datetime(2025, 4, 10, 0, 1, tzinfo=UTC)]
    synced_now = statement_kept(march_history, start=MARCH, end=APRIL, synced=later)
    assert synced_now.period.payments == Decimal("55") and synced_now.adds_up
    # A new known balance moves the closing balance at once.
    march_history.balance = Decimal("110")
    moved = statement_kept(march_history, start=MARCH, end=APRIL, synced=later)
    assert moved.closing == synced_now.closing + 10
    # A period still running ("to date") is kept the same way: a call stored by a sync
    # still under way shows once that sync ends.
    now = timezone.now()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    running_end = now + timedelta(days=40)
    running = statement_kept(march_history, start=month, end=running_end, synced=later, now=now)
    assert running == statement_for(march_history, start=month, end=running_end, now=now)
    CdrFactory(**money, start=now - timedelta(seconds=1), fee=Decimal("2"))
    a_second_later = now + timedelta(seconds=1)
    again = statement_kept(
        march_history, start=month, end=running_end, synced=later, now=a_second_later
    )
    assert again.period.calls == running.period.calls
    cdr_sync_ended = [*later, a_second_later]
    after_sync = statement_kept(
        march_history, start=month, end=running_end, synced=cdr_sync_ended, now=a_second_later
    )
    assert after_sync.period.calls == running.period.calls + 2
    assert after_sync.adds_up


@pytest.mark.django_db
def test_statement_figures_add_up_as_printed_with_fractions_of_a_cent(
    customer_client, offline_account
):
    # 2.1234 - 0.0049 - 0.0049 = 2.1136 would print 2.12 - 0.00 - 0.00 = 2.11 at two places.
    offline_account.balance = Decimal("2.1136")
    offline_account.balance_as_of = APRIL
    offline_account.save()
    money = {"server": offline_account.server, "account": "1001"}
    PayRecordFactory(**money, amount=Decimal("2.1234"), paid_at=MARCH + timedelta(days=1))
    CdrFactory(**money, start=MARCH + timedelta(days=2), fee=Decimal("0.0049"))
    ConsumptionFactory(**money, amount=Decimal("0.0049"), at=MARCH + timedelta(days=3))
    response = customer_client.get(STATEMENT, {"month": "2025-03"})
    s = response.context["statement"]
    assert s.adds_up and s.places == 4
    html = response.content.decode()
    assert "USD 0.0000 + USD 2.1234 + USD 0.0000 − USD 0.0049 − USD 0.0049 = USD 2.1136" in html


@pytest.mark.django_db
def test_statement_figures_keep_two_places_when_those_add_up(march_history):
    s = statement_for(march_history, start=MARCH, end=APRIL)
    assert s.places == 2


def test_places_adding_up_takes_the_fewest_places_that_add_up():
    from telephony.money import places_adding_up

    d = Decimal
    assert places_adding_up(d("1.25"), d("-0.25"), total=d("1")) == 2
    assert places_adding_up(d("1.004"), d("1.004"), total=d("2.008")) == 3  # 1.00 + 1.00 ≠ 2.01
    assert places_adding_up(d("0.0045"), d("0.0045"), total=d("0.009")) == 4  # 0.005 + 0.005


def test_places_adding_up_starts_at_the_portals_own_places(settings):
    from telephony.money import places_adding_up

    d = Decimal
    settings.PORTAL_AMOUNT_DECIMALS = 0  # a currency without cents
    assert places_adding_up(d("1"), d("2"), total=d("3")) == 0
    assert places_adding_up(d("0.4"), d("0.4"), total=d("0.8")) == 1  # 0 + 0 ≠ 1
    settings.PORTAL_AMOUNT_DECIMALS = 6
    assert places_adding_up(d("0.0045"), d("0.0045"), total=d("0.009")) == 6
