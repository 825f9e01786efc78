"""The VOS push receiver: /vos-push/<secret>/<Interface>."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
        {"account": "1001", "money": None},
        {"account": "1001", "money": True},
        {"account": "1001", "money": 1e30},
        {"account": "1001", "money": "1234567890123456789"},
        {"account": {"a": 1}, "money": 1},
        {"account": ["1001"], "money": 1},
        '{"account":"1001","money":NaN}',
        '{"account":"1001","money":Infinity}',
        '{"account":"1001","money":-Infinity}',
        '{"account":"1001","money":1,"x":' + "[" * 10_000 + "]" * 10_000 + "}",
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"account":"' + "1" * 128 * 1024 + '","money":1}',
        "null",
        '"1001"',
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


@pytest.mark.parametrize(
    "body",
    [
        {"e164": "8613800000001", "online": True, "eventTime": 10**20},
        {"e164": "8613800000001", "online": True, "eventTime": -1},
        {"e164": "8613800000001", "online": True, "eventTime": "soon"},
        {"e164": {"n": 1}, "online": True},
        {"e164": "8613800000001", "online": True, "remoteIp": ["10.0.0.1"]},
        '{"e164":"8613800000001","online":true,"eventTime":NaN}',
    ],
)
def test_a_garbled_phone_online_is_bad_input(client, server, body):
    response = push(client, server, "PhoneOnline", body)
    assert response.status_code == 200
    assert response.json()["retCode"] == -10124
    assert not Phone.objects.exists()


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
PUSH_FIELDS = ["account", "money", "e164", "online", "eventTime", "remoteIp"]


@pytest.mark.parametrize("interface", ["CustomerMoneyChange", "PhoneOnline"])
def test_any_json_in_any_field_of_a_push_is_answered_never_a_500(client, server, interface):
    VosAccountFactory(server=server, account="1001", balance=Decimal("10"))

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        st.one_of(
            JSON_VALUES,
            st.dictionaries(st.sampled_from(PUSH_FIELDS), JSON_VALUES).map(
                lambda fields: {"account": "1001", "e164": "861", "online": True} | fields
            ),
        )
    )
    def check(body):
        response = push(client, server, interface, json.dumps(body))  # NaN → NaN literal
        assert response.status_code == 200
        assert response.json()["retCode"] in (0, -10124, -10007)

    check()
