"""Staff are not stranded in the admin: a staff home, a branded admin, links both ways."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from billing.models import LedgerEntry
from telephony.models import SyncState
from tests.accounts.factories import CustomerFactory, StaffFactory
from tests.billing.factories import LedgerEntryFactory
from tests.telephony.factories import VosServerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_staff_land_on_the_staff_home_not_in_the_admin(staff_client):
    response = staff_client.get(reverse("home"))
    assert response["Location"] == reverse("staff_home")


def test_the_staff_home_shows_sync_health_open_payments_and_failing_jobs(staff_client):
    server = VosServerFactory(name="Main switch")
    now = timezone.now()
    SyncState.objects.create(
        server=server,
        job=SyncState.Job.CDRS,
        last_success_at=now - timedelta(hours=1),
        last_error_at=now,
        last_error="GetCdr: HTTP 500",
    )
    LedgerEntryFactory(server=server, state=LedgerEntry.State.UNKNOWN)
    LedgerEntryFactory(server=server, state=LedgerEntry.State.UNKNOWN)
    stuck = LedgerEntryFactory(server=server, state=LedgerEntry.State.PENDING)
    LedgerEntry.objects.filter(pk=stuck.pk).update(created_at=now - timedelta(minutes=10))

    response = staff_client.get(reverse("staff_home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["unknown"]["n"] == 2
    assert response.context["stuck"] == 1
    assert [(s.name, j.job) for s, j in response.context["failing"]] == [("Main switch", "cdrs")]
    assert "GetCdr: HTTP 500" in html
    assert reverse("admin:index") in html and reverse("staff_status") in html
    assert f"{reverse('admin:billing_ledgerentry_changelist')}?state__exact=unknown" in html


def test_the_staff_home_is_staff_only(client):
    client.force_login(CustomerFactory())
    response = client.get(reverse("staff_home"))
    assert response.status_code == 302 and "login" in response["Location"]


@override_settings(PORTAL_NAME="Sunrise Voice")
def test_the_admin_is_branded_and_links_back_without_a_loop(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert "Django administration" not in html
    assert "administration" in html
    assert f'href="{reverse("staff_home")}"' in html
    assert f'href="{reverse("staff_status")}"' in html
    # "View site" goes to the staff home, which does not send staff back to the admin.
    view_site = re.search(r'<a href="([^"]+)">View site</a>', html).group(1)
    assert view_site == reverse("staff_home")
    assert staff_client.get(view_site).status_code == 200


def test_the_admin_reads_call_records_and_ledger_entries(staff_client):
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert "Call records" in html and "Ledger entries" in html
    assert "Cdrs" not in html and ">Ledger<" not in html


def test_the_ledger_pages_title_has_no_html(staff_client):
    LedgerEntryFactory()
    html = staff_client.get(reverse("admin:billing_ledgerentry_changelist")).content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "<" not in title and "href" not in title
    assert reverse("admin:billing_reconciliation") in html


def test_the_chinese_admin_has_no_english_model_names(staff_client):
    with override("zh-hans"):
        html = staff_client.get(
            reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    for english in ("Audit log", "Call records", "Ledger entries", "VOS accounts", "Portal users"):
        assert english not in html, english
    assert "账户s" not in html


@override_settings(DEBUG=True)
def test_a_customer_on_a_reseller_page_gets_the_portals_own_404(client):
    client.force_login(CustomerFactory())
    response = client.get("/reseller/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and 'href="/"' in html
    assert "URLconf" not in html  # not Django's debug page


def test_every_page_has_a_favicon(client):
    client.force_login(CustomerFactory())
    html = client.get(reverse("customer:dashboard")).content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
