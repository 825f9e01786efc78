"""Every /my/ page is the logged-in customer's own: anyone else gets a 404 (or the login)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory, UserFactory
from tests.portal.factories import PayRecordFactory
from tests.telephony.factories import CdrFactory, VosAccountFactory

pytest_plugins = ["tests.portal.fixtures"]

PAGES = [
    ("customer:dashboard", {}),
    ("customer:calls", {}),
    ("customer:calls_csv", {}),
    ("customer:payments", {}),
    ("customer:statement", {}),
    ("customer:phonebook", {}),
    ("customer:phonebook_add", {}),
    ("customer:phonebook_import", {}),
    ("customer:phonebook_export", {}),
    ("customer:phonebook_edit", {"e164": "8613912345678"}),
    ("customer:phonebook_delete", {"e164": "8613912345678"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
@pytest.mark.parametrize("who", ["reseller", "staff", "no profile", "customer without account"])
def test_anyone_but_a_mapped_customer_gets_a_404(client, name, kwargs, who):
    user = {
        "reseller": lambda: ResellerFactory(),
        "staff": lambda: StaffFactory(is_superuser=True),
        "no profile": lambda: UserFactory(),
        "customer without account": lambda: CustomerFactory(vos_account=None),
    }[who]()
    client.force_login(user)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 404
    if name.startswith("customer:phonebook_") and not name.endswith("export"):
        assert client.post(reverse(name, kwargs=kwargs), {}).status_code == 404


@pytest.mark.django_db
def test_calls_and_payments_show_only_the_customers_own_account(customer_client, offline_account):
    other_server_same_number = VosAccountFactory(account="1001")
    neighbour = VosAccountFactory(server=offline_account.server, account="1002")
    CdrFactory(server=offline_account.server, account="1001", callee_e164="111000111")
    CdrFactory(server=offline_account.server, account="1002", callee_e164="222000222")
    CdrFactory(server=other_server_same_number.server, account="1001", callee_e164="333000333")
    PayRecordFactory(server=offline_account.server, account="1001", amount="11.11")
    PayRecordFactory(server=neighbour.server, account="1002", amount="22.22")
    PayRecordFactory(server=other_server_same_number.server, account="1001", amount="33.33")

    calls = customer_client.get(reverse("customer:calls")).content.decode()
    assert "111000111" in calls
    assert "222000222" not in calls and "333000333" not in calls
    csv = b"".join(customer_client.get(reverse("customer:calls_csv")).streaming_content).decode()
    assert "111000111" in csv
    assert "222000222" not in csv and "333000333" not in csv
    payments = customer_client.get(reverse("customer:payments")).content.decode()
    assert "11.11" in payments
    assert "22.22" not in payments and "33.33" not in payments


@pytest.mark.django_db
def test_phonebook_changes_need_a_csrf_token(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = client.post(reverse("customer:phonebook_add"), {"e164": "8613900000000"})
    assert response.status_code == 403
