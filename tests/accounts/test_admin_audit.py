"""Staff changes in the admin to a login's mapping, a reseller's caps and prepaid mode, and a
server's interface root are audited with their old and new values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditLog, Role
from telephony.models import VosServer
from tests.accounts.factories import ResellerFactory, StaffFactory
from tests.telephony.factories import VosAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = StaffFactory(is_superuser=True)
    client.force_login(user)
    return user


def _user_form(client, user, **profile):
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = client.get(url)
    data = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.pop("password", None)
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
            "profile-0-role": user.profile.role,
            "profile-0-vos_account": user.profile.vos_account_id,
            "profile-0-language": "",
            "profile-0-time_zone": "",
            "profile-0-topup_cap_per_transaction": user.profile.topup_cap_per_transaction or "",
            "profile-0-topup_cap_per_day": user.profile.topup_cap_per_day or "",
        }
    )
    if user.profile.prepaid:
        data["profile-0-prepaid"] = "on"
    data.update({f"profile-0-{k}": v for k, v in profile.items()})
    if profile.get("prepaid") is False:
        data.pop("profile-0-prepaid", None)
    return url, data


def test_a_resellers_caps_prepaid_and_mapping_changes_are_audited_old_to_new(client, staff):
    agent = VosAccountFactory(account="agent01")
    other = VosAccountFactory(server=agent.server, account="agent02")
    reseller = ResellerFactory(vos_account=agent)
    reseller.profile.topup_cap_per_transaction = Decimal("100")
    reseller.profile.topup_cap_per_day = Decimal("500")
    reseller.profile.save()

    url, data = _user_form(
        client,
        reseller,
        topup_cap_per_transaction="250",
        topup_cap_per_day="900",
        prepaid="on",
        vos_account=other.pk,
    )
    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    row = AuditLog.objects.get(action="admin.profile.change")
    assert row.user == staff and row.account == "agent02" and row.server == agent.server
    changes = row.detail["changes"]
    assert [Decimal(v) for v in changes["topup_cap_per_transaction"]] == [100, 250]
    assert Decimal(changes["topup_cap_per_day"][1]) == Decimal("900")
    assert changes["prepaid"] == [False, True]
    assert changes["vos_account"] == [
        f"agent01@{agent.server.name}",
        f"agent02@{agent.server.name}",
    ]
    assert row.detail["user"] == reseller.username


def test_saving_a_user_without_profile_changes_writes_no_audit_row(client, staff):
    reseller = ResellerFactory()
    url, data = _user_form(client, reseller)
    assert client.post(url, data).status_code == 302
    assert not AuditLog.objects.filter(action__startswith="admin.profile").exists()


def test_a_role_change_is_audited(client, staff):
    reseller = ResellerFactory()
    url, data = _user_form(client, reseller, role=Role.CUSTOMER)
    assert client.post(url, data).status_code == 302
    changes = AuditLog.objects.get(action="admin.profile.change").detail["changes"]
    assert changes == {"role": [Role.RESELLER, Role.CUSTOMER]}


def test_a_servers_interface_root_change_is_audited_old_to_new(client, staff):
    server = VosServer.objects.create(name="main", url="http://10.0.0.5:8080/external/server")
    url = reverse("admin:telephony_vosserver_change", args=[server.pk])
    data = {
        "name": "main",
        "url": "http://10.0.0.6:8080/external/server",
        "time_zone": server.time_zone,
        "enabled": "on",
        "connect_timeout": server.connect_timeout,
        "read_timeout": server.read_timeout,
        "push_secret": "a-new-secret-of-enough-length-0123456789",
        "push_allowed_ips": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = AuditLog.objects.get(action="admin.server.change")
    assert row.server == server and row.user == staff
    changes = row.detail["changes"]
    assert changes["url"] == [
        "http://10.0.0.5:8080/external/server",
        "http://10.0.0.6:8080/external/server",
    ]
    assert "push_secret" in changes
    assert "a-new-secret" not in str(row.detail)
