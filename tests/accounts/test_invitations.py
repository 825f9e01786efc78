from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing

from accounts.models import Invitation, Role
from accounts.services import onboarding
from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory
from tests.telephony.factories import VosAccountFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Plum-Orchard-1947"


def _link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s]+/)", message.body).group(1)


def _accept(client, path, username="newcomer", password=NEW_PASSWORD):
    return client.post(path, {"username": username, "password1": password, "password2": password})


@pytest.fixture
def sent(django_capture_on_commit_callbacks, celery_eager):
    """Run what invitation_send queues (after the commit, in the worker) as it returns."""

    def send(**kwargs) -> Invitation:
        with django_capture_on_commit_callbacks(execute=True):
            invitation = onboarding.invitation_send(**kwargs)
        invitation.refresh_from_db()
        return invitation

    return send


@pytest.fixture
def invitation(sent):
    reseller = ResellerFactory()
    account = VosAccountFactory(server=reseller.profile.vos_account.server, account="7001")
    return sent(email="new.customer@example.com", vos_account=account, invited_by=reseller)


def test_invitation_send_records_the_row_and_emails_a_signed_link(invitation):
    assert invitation.pk and invitation.last_sent_at and invitation.role == Role.CUSTOMER
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.customer@example.com"]
    assert "7001" in message.body
    path = _link_path(message)
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert onboarding.invitation_from_token(token) == invitation


def test_a_valid_invitation_creates_the_login_and_logs_in(client, invitation):
    path = _link_path(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200
    assert page.context["form"]["username"].value() == "new.customer@example.com"

    response = _accept(client, path)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newcomer")
    assert user.email == "new.customer@example.com"
    assert user.check_password(NEW_PASSWORD)
    assert user.profile.role == Role.CUSTOMER
    assert user.profile.vos_account == invitation.vos_account
    assert client.session["_auth_user_id"] == str(user.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.user == user


def test_a_used_invitation_link_cannot_be_used_again(client, invitation):
    path = _link_path(mail.outbox[0])
    assert _accept(client, path).status_code == 302
    client.post("/accounts/logout/")
    assert client.get(path).status_code == 400
    response = _accept(client, path, username="second")
    assert response.status_code == 400
    assert "already been used" in response.content.decode()
    assert not get_user_model().objects.filter(username="second").exists()


def test_an_expired_invitation_link_is_refused(client, invitation, monkeypatch, settings):
    eight_days_ago = time.time() - 8 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: eight_days_ago)
        token = onboarding.invitation_token(invitation)
    settings.INVITATION_MAX_AGE_DAYS = 7
    response = client.get(f"/accounts/invitation/{token}/")
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert _accept(client, f"/accounts/invitation/{token}/").status_code == 400
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_a_tampered_invitation_link_is_refused(client, invitation):
    other = Invitation.objects.create(email="x@example.com", vos_account=invitation.vos_account)
    token = onboarding.invitation_token(invitation)
    payload, rest = token.split(":", 1)
    forged = signing.b64_encode(b'{"i":%d,"e":"x"}' % other.pk).decode() + ":" + rest
    for bad in (forged, token[:-2] + "xx", "garbage"):
        response = client.get(f"/accounts/invitation/{bad}/")
        assert response.status_code == 400
        assert "not valid" in response.content.decode()


def test_invitation_accept_checks_the_password_and_username(client, invitation):
    CustomerFactory(username="taken")
    path = _link_path(mail.outbox[0])
    response = _accept(client, path, username="taken", password="123")
    assert response.status_code == 200
    form = response.context["form"]
    assert "username" in form.errors and "password1" in form.errors
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_staff_invitations_make_staff_logins_without_an_account(client, sent):
    invitation = sent(
        email="ops@example.com", vos_account=None, invited_by=StaffFactory(), role=Role.STAFF
    )
    response = _accept(client, _link_path(mail.outbox[0]), username="ops")
    assert response.status_code == 302
    user = get_user_model().objects.get(username="ops")
    assert user.is_staff and not user.is_superuser
    assert user.profile.role == Role.STAFF and user.profile.vos_account is None
    assert Invitation.objects.get(pk=invitation.pk).user == user


def test_a_customer_invitation_needs_an_account():
    with pytest.raises(ValueError):
        onboarding.invitation_send(email="a@example.com", vos_account=None, invited_by=None)
