from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.factories import (
    PASSWORD,
    CustomerFactory,
    ResellerFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, ip="203.0.113.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_renders_a_labelled_form_with_csrf(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert "csrfmiddlewaretoken" in html
    assert reverse("password_reset") in html and reverse("activate") in html


def test_login_with_the_right_password_goes_home(client):
    user = CustomerFactory()
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_a_wrong_password_shows_an_error_and_stays_out(client):
    user = CustomerFactory()
    response = _login(client, user.username, "wrong password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].non_field_errors()


def test_logout_is_post_only(client):
    user = CustomerFactory()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_username_even_from_another_address(client):
    user = CustomerFactory()
    for n in range(5):
        _login(client, user.username, f"wrong{n}", ip=f"203.0.113.{n + 1}")
    response = _login(client, user.username, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_from_one_address_lock_that_address_for_every_username(client):
    victim = CustomerFactory()
    for n in range(5):
        _login(client, f"nobody{n}", "guess", ip="203.0.113.50")
    response = _login(client, victim.username, PASSWORD, ip="203.0.113.50")
    assert response.status_code == 429
    # Another address is not affected.
    response = _login(client, victim.username, PASSWORD, ip="198.51.100.8")
    assert response.status_code == 302


def test_a_successful_login_resets_the_failure_count(client):
    user = CustomerFactory()
    for n in range(4):
        _login(client, user.username, f"wrong{n}")
    assert _login(client, user.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for n in range(4):
        _login(client, user.username, f"again{n}")
    assert _login(client, user.username, PASSWORD).status_code == 302


def test_login_activates_the_language_chosen_on_the_profile(client):
    user = CustomerFactory()
    user.profile.language = "zh-hans"
    user.profile.save()
    response = _login(client, user.username, PASSWORD)
    assert response.cookies["django_language"].value == "zh-hans"


@pytest.mark.parametrize(
    ("factory", "target"),
    [
        (CustomerFactory, "customer:dashboard"),
        (ResellerFactory, "reseller:customers"),
        (StaffFactory, "staff_home"),
    ],
)
def test_home_sends_each_role_to_its_start_page(client, factory, target):
    client.force_login(factory())
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(target)


def test_home_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_login_without_a_role_is_told_so_on_the_login_page(client):
    client.force_login(UserFactory())
    response = client.get(reverse("home"), follow=True)
    assert "no access to this portal" in response.content.decode()


def test_a_customer_cannot_reach_the_reseller_area(client):
    client.force_login(CustomerFactory())
    assert client.get("/reseller/").status_code == 404


def test_a_reseller_cannot_reach_the_customer_area(client):
    client.force_login(ResellerFactory())
    assert client.get("/my/").status_code == 404
