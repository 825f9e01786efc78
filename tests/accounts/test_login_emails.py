"""Invitation and password-reset e-mails leave the request: queued after the commit, sent by
the worker, retried while the mail server fails, then logged — never an error on the page."""

from __future__ import annotations

import logging
import smtplib

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from accounts import tasks
from accounts.models import Invitation
from tests.accounts.factories import CustomerFactory
from tests.billing.factories import demo_world
from tests.telephony.factories import VosAccountFactory

pytestmark = pytest.mark.django_db


class FailingBackend(EmailBackend):
    """The locmem outbox behind a mail server that drops the first ``failures`` sends."""

    failures = 0
    tries = 0

    def send_messages(self, messages):
        FailingBackend.tries += 1
        if FailingBackend.tries <= FailingBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def mail_server(settings):
    """Set how many sends fail: ``mail_server(2)``; ``mail_server.tries`` counts them."""
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    FailingBackend.tries = 0

    def down_for(failures: int):
        FailingBackend.failures = failures
        return FailingBackend

    return down_for


@pytest.fixture
def worker(celery_eager):
    """Queued tasks run at once, retries included, and their errors stay in the worker (as
    in production: nothing a task raises reaches the page that queued it)."""
    celery_eager.conf.task_eager_propagates = False
    return celery_eager


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(vos_server, vos_client)


def _create_customer(client, account="1888", email="shop@example.com"):
    return client.post(
        reverse("reseller:customer_create"),
        {
            "account": account,
            "name": "Corner Shop",
            "limit_money": "10",
            "e164": f"861380000{account}",
            "web_password": "secret88",
            "email": email,
        },
    )


def test_the_create_customer_page_answers_before_the_invitation_is_sent(
    client, world, vos_emulator, django_capture_on_commit_callbacks, celery_eager
):
    client.force_login(world.reseller)
    with django_capture_on_commit_callbacks() as queued:
        response = _create_customer(client)
    assert response.status_code == 302
    assert mail.outbox == []
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert "An invitation is on its way to shop@example.com." in notices
    invitation = Invitation.objects.get(email="shop@example.com")
    assert invitation.last_sent_at is None

    for callback in queued:
        callback()
    assert [m.to for m in mail.outbox] == [["shop@example.com"]]
    assert "/accounts/invitation/" in mail.outbox[0].body
    invitation.refresh_from_db()
    assert invitation.last_sent_at is not None


def test_the_invitation_is_in_the_language_of_the_page_it_was_sent_from(
    client, world, vos_emulator, django_capture_on_commit_callbacks, celery_eager
):
    client.force_login(world.reseller)
    client.cookies["django_language"] = "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        response = _create_customer(client, email="li@example.com")
    assert response.status_code == 302
    assert [m.subject for m in mail.outbox] == ["您的 VOS Portal 登录账号"]


def test_a_mail_server_that_fails_is_retried_and_the_page_still_answers(
    client,
    world,
    vos_emulator,
    mail_server,
    django_capture_on_commit_callbacks,
    worker,
    caplog,
):
    backend = mail_server(2)
    client.force_login(world.reseller)
    with caplog.at_level(logging.WARNING, logger="accounts.tasks"):
        with django_capture_on_commit_callbacks(execute=True):
            response = _create_customer(client)
    assert response.status_code == 302
    assert backend.tries == 3
    assert [m.to for m in mail.outbox] == [["shop@example.com"]]
    retried = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retried) == 2 and "Connection unexpectedly closed" in retried[0].getMessage()


def test_a_mail_server_that_stays_down_is_logged_and_given_up(mail_server, caplog):
    backend = mail_server(100)
    invitation = Invitation.objects.create(
        email="late@example.com", vos_account=VosAccountFactory()
    )
    with caplog.at_level(logging.WARNING, logger="accounts.tasks"):
        result = tasks.invitation_email.apply((invitation.pk,))
    assert result.get() == 0
    assert backend.tries == tasks.MAIL_MAX_RETRIES + 1
    assert mail.outbox == []
    given_up = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(given_up) == 1 and "late@example.com" in given_up[0].getMessage()
    invitation.refresh_from_db()
    assert invitation.last_sent_at is None


def test_a_refused_address_is_not_retried(mail_server, monkeypatch, caplog):
    def refuse(self, messages):
        FailingBackend.tries += 1
        raise smtplib.SMTPRecipientsRefused({"late@example.com": (550, b"no such user")})

    mail_server(0)
    monkeypatch.setattr(FailingBackend, "send_messages", refuse)
    user = CustomerFactory(email="late@example.com")
    with caplog.at_level(logging.ERROR, logger="accounts.tasks"):
        result = tasks.password_reset_email.apply((user.pk, "http://testserver/"))
    assert result.get() == 0 and FailingBackend.tries == 1
    assert any("password reset" in r.getMessage() for r in caplog.records)


def test_the_password_reset_page_survives_a_mail_server_failure(
    client, mail_server, django_capture_on_commit_callbacks, worker
):
    backend = mail_server(1)
    CustomerFactory(email="carol@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "carol@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert backend.tries == 2
    assert len(mail.outbox) == 1 and "/accounts/password-reset/" in mail.outbox[0].body


def test_the_invitation_task_runs_twice_safely_and_skips_used_invitations():
    invitation = Invitation.objects.create(
        email="twice@example.com", vos_account=VosAccountFactory()
    )
    assert tasks.invitation_email.apply((invitation.pk, "http://portal.test/")).get() == 1
    assert tasks.invitation_email.apply((invitation.pk, "http://portal.test/")).get() == 1
    assert len(mail.outbox) == 2
    assert all("http://portal.test/accounts/invitation/" in m.body for m in mail.outbox)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=invitation.created_at)
    assert tasks.invitation_email.apply((invitation.pk,)).get() == 0
    assert len(mail.outbox) == 2
