"""The pages behind the API: keys on the profile, the reseller's webhooks page."""

from __future__ import annotations

import re

from django.urls import reverse

from accounts.models import ApiKey
from billing.models import WebhookEndpoint
from tests.api.support import ApiClient


def test_a_customer_creates_a_key_sees_it_once_and_revokes_it(client, world):
    client.force_login(world.customer)
    response = client.post(
        reverse("api_keys"), {"name": "my script", "scopes": ["read"], "allowed_ips": ""}
    )
    assert response.status_code == 200
    text = re.search(r'id="new-key">([^<]+)<', response.content.decode()).group(1)
    assert ApiClient(client.__class__(), text).get("/me").status_code == 200
    again = client.get(reverse("api_keys")).content.decode()
    assert text not in again
    key = ApiKey.objects.get()
    client.post(reverse("api_key_revoke", args=[key.pk]))
    assert ApiClient(client.__class__(), text).get("/me").status_code == 401


def test_a_bad_cidr_is_a_form_error(client, world):
    client.force_login(world.reseller)
    response = client.post(
        reverse("api_keys"), {"name": "x", "scopes": ["read"], "allowed_ips": "not-an-ip"}
    )
    assert "not an address" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_nobody_revokes_anothers_key(client, world):
    from tests.api.support import key_for

    key_for(world.other_reseller)
    client.force_login(world.reseller)
    key = ApiKey.objects.get()
    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_webhooks_page_adds_an_endpoint_and_shows_its_log(client, world):
    client.force_login(world.reseller)
    response = client.post(
        reverse("reseller:webhooks"),
        {"url": "http://127.0.0.1:9/hook", "events": ["transaction.applied"]},
    )
    assert "whsec_" in response.content.decode()
    endpoint = WebhookEndpoint.objects.get(owner=world.reseller)
    client.post(reverse("reseller:webhook_test", args=[endpoint.pk]))
    page = client.get(reverse("reseller:webhooks")).content.decode()
    assert "webhook.test" in page and endpoint.secret not in page
    client.force_login(world.other_reseller)
    assert client.post(reverse("reseller:webhook_delete", args=[endpoint.pk])).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_customer_has_no_webhooks_page(client, world):
    client.force_login(world.customer)
    assert client.get(reverse("reseller:webhooks")).status_code == 404
