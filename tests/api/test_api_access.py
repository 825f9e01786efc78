"""Who may call what: the access matrix, key states, scopes, throttles, problem details."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services.apikeys import api_key_revoke
from accounts.services.audit import Actor
from tests.api.support import ApiClient, key_for

# Every endpoint that names a customer, with a harmless body where one is needed.
CUSTOMER_ENDPOINTS = [
    ("get", "/customers/1001", None),
    ("patch", "/customers/1001", {"locked": True}),
    ("post", "/customers/1001/phones", {"e164": "8613700009999"}),
    ("delete", "/customers/1001/phones/8613800001001", None),
    ("post", "/customers/1001/transactions", {"amount": "1"}),
    ("get", "/customers/1001/calls", None),
    ("get", "/customers/1001/statement?from=2026-01-01&to=2026-01-31", None),
    ("post", "/customers/1001/password", {"password": "a new long passphrase"}),
    ("post", "/customers/1001/password/check", {"password": "x"}),
    ("post", "/customers/1001/login-link", None),
    ("post", "/customers/1001/invitation", {"email": "x@example.com"}),
]
OWN_ENDPOINTS = [
    ("get", "/me", None),
    ("get", "/me/calls", None),
    ("get", "/me/payments", None),
    ("get", "/me/statement?from=2026-01-01&to=2026-01-31", None),
    ("get", "/me/phonebook", None),
    ("get", "/customers", None),
    ("get", "/transactions", None),
    ("get", "/webhooks", None),
]
ALL = CUSTOMER_ENDPOINTS + OWN_ENDPOINTS


def call(api, method, path, body):
    extra = {"HTTP_IDEMPOTENCY_KEY": "k1"} if path.endswith("/transactions") else {}
    if method in ("get", "delete"):
        return getattr(api, method)(path, **extra)
    return getattr(api, method)(path, body, **extra)


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_ENDPOINTS)
def test_another_resellers_key_gets_404_on_every_customer_endpoint(
    other_api, vos_emulator, method, path, body
):
    before = repr(vos_emulator.state.customers["1001"])
    response = call(other_api, method, path, body)
    assert response.status_code == 404, (path, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert "1001" not in response.content.decode().replace(path, "")
    assert repr(vos_emulator.state.customers["1001"]) == before


@pytest.mark.parametrize(("method", "path", "body"), CUSTOMER_ENDPOINTS)
def test_a_customer_key_is_403_on_every_reseller_endpoint(customer_api, method, path, body):
    assert call(customer_api, method, path, body).status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), ALL)
def test_no_key_a_revoked_an_expired_or_an_ip_refused_key_is_401(world, method, path, body):
    revoked = key_for(world.reseller)
    api_key_revoke(actor=Actor(), key=ApiKey.objects.latest("pk"))
    expired = key_for(world.reseller)
    ApiKey.objects.filter(pk=ApiKey.objects.latest("pk").pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    elsewhere = key_for(world.reseller, allowed_ips=["203.0.113.0/24"])
    for text in ("", "vpk_nope.nope", revoked, expired, elsewhere):
        response = call(ApiClient(Client(), text), method, path, body)
        assert response.status_code == 401, (text, path)
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"] == "Bearer"


def test_an_ip_allow_list_admits_its_networks(world):
    api = ApiClient(Client(), key_for(world.reseller, allowed_ips=["127.0.0.0/8"]))
    assert api.get("/me").status_code == 200
    assert ApiKey.objects.get().last_used_ip == "127.0.0.1"


def test_a_read_only_key_cannot_move_money_or_change_accounts(world):
    api = ApiClient(Client(), key_for(world.reseller, scopes=["read"]))
    assert api.get("/customers/1001").status_code == 200
    assert call(api, "post", "/customers/1001/transactions", {"amount": "1"}).status_code == 403
    assert api.patch("/customers/1001", {"locked": True}).status_code == 403


def test_the_key_is_stored_only_as_a_hash(world):
    text = key_for(world.reseller)
    key = ApiKey.objects.get()
    assert text not in (key.digest, key.prefix) and key.prefix in text
    assert text.split(".", 1)[1] not in repr(ApiKey.objects.values().get())


def test_requests_over_the_burst_rate_get_429_with_retry_after(reseller_api, settings):
    settings.API_RATE_BURST = "3/s"
    settings.API_RATE_SUSTAINED = "1000/m"
    codes = [reseller_api.get("/transactions").status_code for _ in range(8)]
    assert codes.count(200) <= 3 * 2  # at most two one-second windows in the loop
    assert 429 in codes
    response = reseller_api.get("/transactions")
    if response.status_code == 429:
        assert int(response["Retry-After"]) >= 1
        assert response.json()["status"] == 429


def test_a_crash_is_a_500_problem_never_an_html_page(reseller_api, monkeypatch):
    from billing import reseller_selectors

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("portal.api.transactions.reseller_ledger", boom)
    response = reseller_api.get("/transactions")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "boom" not in response.content.decode()
    assert reseller_selectors  # the real selector module is untouched


def test_api_key_create_prints_the_key_alone_on_its_last_line(world):
    out = StringIO()
    call_command(
        "api_key_create",
        "--user",
        "sunrise",
        "--name",
        "billing script",
        "--scope",
        "read",
        "--scope",
        "money",
        "--allow-ip",
        "127.0.0.1/32",
        stdout=out,
        stderr=StringIO(),
    )
    text = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert key.scopes == ["money", "read"] and key.allowed_ips == ["127.0.0.1/32"]
    assert ApiClient(Client(), text).get("/me").json()["username"] == "sunrise"


def test_openapi_document_and_docs_page_are_served_from_our_own_files(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/customers/{account}/transactions" in doc["paths"]
    page = client.get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_an_unknown_api_path_or_a_bad_id_is_a_problem_not_html(reseller_api):
    for path in ("/nope", "/transactions/abc", "/webhooks/null/deliveries"):
        response = reseller_api.get(path)
        assert response.status_code in (404, 422), path
        assert response["Content-Type"] == "application/problem+json", path
