from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Invitation, Role
from accounts.services import onboarding
from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory
from tests.telephony.factories import VosAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_user_list_shows_role_account_and_server_without_a_query_per_row(admin_client):
    for _ in range(3):
        CustomerFactory()
    url = reverse("admin:auth_user_changelist")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(20):
        CustomerFactory()
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few)
    assert not response.context["cl"].show_full_result_count


def test_user_list_searches_by_account_and_filters_by_role(admin_client):
    customer = CustomerFactory(vos_account=VosAccountFactory(account="889900"))
    reseller = ResellerFactory()
    url = reverse("admin:auth_user_changelist")
    found = admin_client.get(url, {"q": "889900"}).context["cl"].result_list
    assert list(found) == [customer]
    resellers = admin_client.get(url, {"role": Role.RESELLER}).context["cl"].result_list
    assert list(resellers) == [reseller]


def test_user_change_page_has_the_profile_inline(admin_client):
    user = ResellerFactory()
    response = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "profile-0-topup_cap_per_day" in html and "profile-0-vos_account" in html


def test_invitation_admin_queues_the_e_mail_and_the_worker_sends_it(
    admin_client, django_capture_on_commit_callbacks, celery_eager
):
    account = VosAccountFactory()
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(
            reverse("admin:accounts_invitation_add"),
            {"email": "new@example.com", "role": Role.CUSTOMER, "vos_account": account.pk},
        )
    assert response.status_code == 302
    assert mail.outbox == [] and len(queued) == 1
    invitation = Invitation.objects.get()
    assert invitation.invited_by is not None and invitation.last_sent_at is None
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "The invitation was e-mailed to new@example.com." in messages

    queued[0]()
    invitation.refresh_from_db()
    assert invitation.last_sent_at is not None
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert "/accounts/invitation/" in mail.outbox[0].body


def test_invitation_admin_refuses_a_customer_without_an_account(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_invitation_add"), {"email": "x@example.com", "role": "customer"}
    )
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_resend_action_mails_pending_invitations_only(
    admin_client, django_capture_on_commit_callbacks, celery_eager
):
    account = VosAccountFactory()
    pending = onboarding.invitation_send(
        email="p@example.com", vos_account=account, invited_by=None
    )
    done = onboarding.invitation_send(email="d@example.com", vos_account=account, invited_by=None)
    Invitation.objects.filter(pk=done.pk).update(accepted_at=done.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:accounts_invitation_changelist"),
            {"action": "resend", "_selected_action": [pending.pk, done.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["p@example.com"]]


def test_profile_inline_refuses_a_customer_without_an_account(admin_client):
    user = CustomerFactory()
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "username": user.username,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": user.profile.pk,
            "profile-0-user": user.pk,
            "profile-0-role": Role.CUSTOMER,
            "profile-0-vos_account": "",
            "profile-0-topup_cap_per_transaction": "500",
            "profile-0-topup_cap_per_day": "2000",
        }
    )
    data.pop("password", None)
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Customers and resellers need a VOS account." in response.content.decode()
    user.profile.refresh_from_db()
    assert user.profile.vos_account is not None


def test_staff_allowing_a_negative_balance_is_audited(admin_client):
    from accounts.models import AuditLog

    user = ResellerFactory()
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = admin_client.get(url)
    assert "profile-0-allow_negative_balance" in page.content.decode()
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "username": user.username,
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": user.profile.pk,
            "profile-0-user": user.pk,
            "profile-0-role": Role.RESELLER,
            "profile-0-vos_account": user.profile.vos_account_id,
            "profile-0-topup_cap_per_transaction": "500",
            "profile-0-topup_cap_per_day": "2000",
            "profile-0-allow_negative_balance": "on",
        }
    )
    data.pop("password", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.profile.refresh_from_db()
    assert user.profile.allow_negative_balance
    row = AuditLog.objects.get(action="admin.profile.change")
    assert row.detail["changes"] == {"allow_negative_balance": [False, True]}
    assert row.detail["user"] == user.username
    assert row.account == user.profile.vos_account.account
