"""The reseller gets a customer back in: reset e-mail, temporary password, one-time link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditLog, SignInLink
from tests.accounts.factories import PASSWORD
from tests.billing.factories import demo_world


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


@pytest.fixture
def reseller_client(client, world):
    client.force_login(world.reseller)
    return client


def act(client, world, action, account="1001", user=None):
    user = user or world.customer
    return client.post(
        reverse("reseller:customer_access", args=[account]),
        {"user": user.pk, "action": action},
    )


def test_a_temporary_password_is_shown_once_and_must_be_changed_at_sign_in(
    reseller_client, client, world
):
    response = act(reseller_client, world, "temporary")
    password = re.search(r'<code class="secret">([^<]+)</code>', response.content.decode())[1]
    assert "no-store" in response["Cache-Control"]
    assert AuditLog.objects.filter(action="login.temporary_password").exists()
    client.logout()
    signed_in = client.post(
        reverse("login"), {"username": world.customer.username, "password": password}
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("customer:dashboard"))["Location"] == reverse("password_change")
    done = client.post(
        reverse("password_change"),
        {
            "old_password": password,
            "new_password1": "Quiet-Harbour-77",
            "new_password2": "Quiet-Harbour-77",
        },
    )
    assert done.status_code == 302
    assert client.get(reverse("customer:dashboard")).status_code == 200


def test_the_reset_email_is_sent_from_a_task_after_the_commit(
    reseller_client, world, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    world.customer.email = "zhang@example.com"
    world.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        act(reseller_client, world, "email")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["zhang@example.com"]
    assert "/accounts/password-reset/" in mailoutbox[0].body


def test_a_sign_in_link_works_once(reseller_client, client, world):
    response = act(reseller_client, world, "link")
    url = re.search(r"(http://testserver/accounts/link/[^<\s]+/)", response.content.decode())[1]
    path = url.removeprefix("http://testserver")
    client.logout()
    assert client.get(path).status_code == 200  # a preview does not use it
    assert client.post(path)["Location"] == reverse("home")
    assert client.get(reverse("customer:dashboard")).status_code == 200
    client.logout()
    assert client.post(path).status_code == 410
    assert AuditLog.objects.filter(action="login.link_use").count() == 1


def test_an_expired_or_forged_link_does_not_sign_in(reseller_client, client, world):
    response = act(reseller_client, world, "link")
    path = re.search(r"http://testserver(/accounts/link/[^<\s]+/)", response.content.decode())[1]
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.logout()
    assert client.post(path).status_code == 410
    forged = signing.dumps({"l": 1, "n": "x"}, salt="other")
    assert client.post(reverse("signin_link", args=[forged])).status_code == 410
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("account", ["2001", "agent01"])
def test_another_resellers_customer_is_a_404(reseller_client, world, account):
    assert (
        reseller_client.get(reverse("reseller:customer_access", args=[account])).status_code == 404
    )
    assert act(reseller_client, world, "temporary", account=account).status_code == 404


def test_a_login_of_another_account_cannot_be_reset_through_this_one(reseller_client, world):
    assert act(reseller_client, world, "temporary", account="1002").status_code == 404
    world.customer.refresh_from_db()
    assert world.customer.check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="login.temporary_password").exists()
