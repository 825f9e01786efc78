"""The VOS push receiver: /vos-push/<secret>/<Interface>."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from telephony import vos
from telephony.models import Phone, VosAccount
from telephony.services import jobs, mirror
from telephony.vos import to_millis

from .factories import VosAccountFactory, VosServerFactory


@pytest.fixture
def server(db):
    # The interface root's host is the loopback address the test client sends from.
    return VosServerFactory(url="http://127.0.0.1:8080/external/server")


@pytest.fixture
def account(server):
    return VosAccountFactory(
        server=server,
        account="1001",
        balance=Decimal("10"),
        balance_as_of=timezone.now() - timedelta(minutes=1),
    )


def push(client, server, interface, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/vos-push/{server.push_secret}/{interface}",
        data=data,
        content_type="text/html;charset=UTF-8",
        **extra,
    )


def test_a_money_change_sets_the_balance_at_once(client, server, account):
    response = push(client, server, "CustomerMoneyChange", {"account": "1001", "money": 25.5})

    assert response.status_code == 200
    assert response.json() == {"retCode": 0}
    account.refresh_from_db()
    assert account.balance == Decimal("25.5")
    assert timezone.now() - account.balance_as_of < timedelta(seconds=5)


def test_a_push_does_not_overwrite_a_newer_reading(client, server, account):
    VosAccount.objects.filter(pk=account.pk).update(
        balance=Decimal("7"), balance_as_of=timezone.now() + timedelta(minutes=1)
    )

    response = push(client, server, "CustomerMoneyChange", {"account": "1001", "money": 99})

    assert response.json() == {"retCode": 0}
    account.refresh_from_db()
    assert account.balance == Decimal("7")


def test_a_poll_sent_before_the_push_does_not_undo_it(client, server, account):
    sent_at = timezone.now()
    push(client, server, "CustomerMoneyChange", {"account": "1001", "money": 30})
    account.refresh_from_db()
    stale = vos.Customer(
        account="1001",
        name="",
        money=Decimal("10"),
        limit_money=Decimal("0"),
        today_consumption=Decimal("0"),
        lock_type=0,
        agent_account="",
    )

    mirror.account_apply(server=server, customer=stale, read_at=sent_at)

    account.refresh_from_db()
    assert account.balance == Decimal("30")


def test_a_money_change_for_an_unknown_account_is_answered_not_found(client, server):
    response = push(client, server, "CustomerMoneyChange", {"account": "nobody", "money": 1})
    assert response.status_code == 200
    assert response.json()["retCode"] == -10007
    assert not VosAccount.objects.filter(account="nobody").exists()


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        b"\xff\xfe",
        "[1, 2]",
        {"account": "1001"},
        {"money": 3},
        {"account": "1001", "money": "lots"},
        {"account": "", "money": 1},
    ],
)
def test_bad_input_gets_a_non_zero_ret_code_not_a_500(client, server, account, body):
    response = push(client, server, "CustomerMoneyChange", body)

    assert response.status_code == 200
    assert response.json()["retCode"] == -10124
    account.refresh_from_db()
    assert account.balance == Decimal("10")


def test_an_unknown_interface_gets_a_non_zero_ret_code(client, server):
    response = push(client, server, "PushDtmfInfo", {"flowNo": 1})
    assert response.status_code == 200
    assert response.json()["retCode"] != 0


def test_a_wrong_secret_is_a_404(client, server, account):
    response = client.post(
        "/vos-push/wrong-secret/CustomerMoneyChange",
        data='{"account":"1001","money":1}',
        content_type="text/html",
    )
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.balance == Decimal("10")


def test_a_disabled_server_takes_no_pushes(client, server, account):
    server.enabled = False
    server.save()
    assert (
        push(client, server, "CustomerMoneyChange", {"account": "1001", "money": 1}).status_code
        == 404
    )


def test_a_sender_outside_the_allowed_addresses_is_a_403(client, server, account):
    server.push_allowed_ips = "10.0.0.5, 192.168.1.0/24"
    server.save()

    refused = push(client, server, "CustomerMoneyChange", {"account": "1001", "money": 1})
    allowed = push(
        client,
        server,
        "CustomerMoneyChange",
        {"account": "1001", "money": 2},
        REMOTE_ADDR="192.168.1.77",
    )

    assert refused.status_code == 403
    assert allowed.json() == {"retCode": 0}
    account.refresh_from_db()
    assert account.balance == Decimal("2")


def test_with_no_allowed_addresses_only_the_server_host_may_push(client, db):
    other = VosServerFactory(url="http://10.9.9.9:8080/external/server")
    VosAccountFactory(server=other, account="1001")

    response = push(client, other, "CustomerMoneyChange", {"account": "1001", "money": 1})
    assert response.status_code == 403
    ok = push(
        client,
        other,
        "CustomerMoneyChange",
        {"account": "1001", "money": 1},
        REMOTE_ADDR="10.9.9.9",
    )
    assert ok.json() == {"retCode": 0}


def test_only_post_is_accepted(client, server):
    response = client.get(f"/vos-push/{server.push_secret}/CustomerMoneyChange")
    assert response.status_code == 405


def test_pushes_need_no_csrf_token(server, account):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert push(strict, server, "CustomerMoneyChange", {"account": "1001", "money": 3}).json() == {
        "retCode": 0
    }


def test_phone_online_is_stored_and_older_events_are_ignored(client, server):
    now = timezone.now().replace(microsecond=0)
    body = {
        "e164": "8613800001001",
        "dids": [],
        "online": True,
        "eventTime": to_millis(now),
        "localIp": "10.0.0.2",
        "localPort": 5060,
        "remoteIp": "203.0.113.9",
        "productId": "softphone",
    }

    assert push(client, server, "PhoneOnline", body).json() == {"retCode": 0}
    phone = Phone.objects.get(server=server, e164="8613800001001")
    assert phone.online and phone.last_seen_at == now and phone.remote_ip == "203.0.113.9"

    older = {**body, "online": False, "eventTime": to_millis(now - timedelta(minutes=5))}
    assert push(client, server, "PhoneOnline", older).json() == {"retCode": 0}
    phone.refresh_from_db()
    assert phone.online

    later = {**body, "online": False, "eventTime": to_millis(now + timedelta(minutes=5))}
    push(client, server, "PhoneOnline", later)
    phone.refresh_from_db()
    assert not phone.online


def test_phone_online_without_e164_is_bad_input(client, server):
    response = push(client, server, "PhoneOnline", {"online": True})
    assert response.json()["retCode"] == -10124
    assert not Phone.objects.exists()


def test_the_receiver_takes_a_push_from_the_emulator_host(client, vos_server, vos_emulator):
    jobs.server_job_run(server=vos_server, job="discovery")

    response = push(client, vos_server, "CustomerMoneyChange", {"account": "1002", "money": 1.25})

    assert response.json() == {"retCode": 0}
    assert VosAccount.objects.get(server=vos_server, account="1002").balance == Decimal("1.25")
