from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from telephony.models import VosServer


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "x-Pa55-word")
    client.force_login(user)
    return client


def _test_connection(staff_client, server):
    response = staff_client.post(
        reverse("admin:telephony_vosserver_changelist"),
        {"action": "test_connection", "_selected_action": [server.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_test_connection_reports_a_reachable_server(staff_client, vos_server, vos_emulator):
    (message,) = _test_connection(staff_client, vos_server)
    assert "answers in" in message
    assert vos_emulator.calls["GetCustomer"] == 1


def test_test_connection_reports_an_unreachable_server(staff_client, db):
    server = VosServer.objects.create(
        name="down", url="http://127.0.0.1:9/external/server", connect_timeout=0.5
    )
    (message,) = _test_connection(staff_client, server)
    assert "not reachable" in message
