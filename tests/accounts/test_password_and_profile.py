from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.accounts.factories import PASSWORD, CustomerFactory, ResellerFactory, StaffFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quiet-Harbour-2031"


def test_password_reset_emails_a_link_that_sets_a_new_password(
    client, django_capture_on_commit_callbacks, celery_eager
):
    user = CustomerFactory(email="carol@example.com")
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("password_reset"), {"email": "carol@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == [] and len(queued) == 1  # the worker sends it, after the commit
    queued[0]()
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert user.username in body
    path = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/\S+/)", body).group(1)

    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The link is single-use.
    assert not client.get(path, follow=True).context["validlink"]


def test_password_reset_says_the_same_for_an_unknown_address(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_change_needs_the_old_password(client):
    user = CustomerFactory()
    client.force_login(user)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(reverse("password_change"), {"old_password": "nope", **data})
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    response = client.post(reverse("password_change"), {"old_password": PASSWORD, **data})
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def _profile_data(**overrides):
    data = {
        "first_name": "Wei",
        "last_name": "Zhang",
        "email": "wei@example.com",
        "language": "",
        "time_zone": "",
        "low_balance_threshold": "",
    }
    data.update(overrides)
    return data


def test_profile_page_needs_a_login(client):
    response = client.get(reverse("profile"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_profile_saves_name_email_zone_threshold_and_language(client):
    user = CustomerFactory()
    client.force_login(user)
    response = client.post(
        reverse("profile"),
        _profile_data(language="zh-hans", time_zone="Asia/Shanghai", low_balance_threshold="12.5"),
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Wei", "Zhang", "wei@example.com")
    assert user.profile.language == "zh-hans"
    assert user.profile.time_zone == "Asia/Shanghai"
    assert user.profile.low_balance_threshold == Decimal("12.5")
    # The next page is in Chinese.
    page = client.get(reverse("profile"))
    assert "个人资料" in page.content.decode()


def test_profile_refuses_a_negative_threshold_and_an_unknown_zone(client):
    user = CustomerFactory()
    client.force_login(user)
    response = client.post(
        reverse("profile"), _profile_data(low_balance_threshold="-1", time_zone="Mars/Base")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "low_balance_threshold" in errors and "time_zone" in errors
    assert 'class="field-error"' in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.low_balance_threshold is None


def test_an_empty_threshold_falls_back_to_the_default(client):
    user = ResellerFactory()
    user.profile.low_balance_threshold = Decimal("3")
    user.profile.save()
    client.force_login(user)
    client.post(reverse("profile"), _profile_data())
    user.profile.refresh_from_db()
    assert user.profile.low_balance_threshold is None


def test_staff_profile_has_no_threshold_field(client):
    client.force_login(StaffFactory())
    response = client.get(reverse("profile"))
    assert response.status_code == 200
    assert "low_balance_threshold" not in response.context["form"].fields


def test_a_new_threshold_rearms_the_alert_and_other_edits_do_not(client):
    from django.utils import timezone

    user = CustomerFactory()
    user.profile.low_balance_threshold = Decimal("5")
    user.profile.low_balance_alerted_at = timezone.now()
    user.profile.save()
    client.force_login(user)
    client.post(reverse("profile"), _profile_data(low_balance_threshold="5", language="en"))
    user.profile.refresh_from_db()
    assert user.profile.low_balance_alerted_at is not None
    client.post(reverse("profile"), _profile_data(low_balance_threshold="8"))
    user.profile.refresh_from_db()
    assert user.profile.low_balance_alerted_at is None
    assert user.profile.low_balance_threshold == Decimal("8")


def test_the_profile_names_the_rule_the_banner_and_the_email_use(client):
    # Both compare the balance (billing.views.dashboard, notify.low_balance_alerts_send).
    client.force_login(CustomerFactory())
    html = client.get(reverse("profile")).content.decode()
    assert "when your balance falls below this amount" in html
    assert "available credit falls below" not in html
