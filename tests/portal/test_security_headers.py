"""Every page carries a Content-Security-Policy and a Permissions-Policy; no inline script
runs without the page's nonce (or, for the one listed exception, its hash)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.accounts.factories import CustomerFactory, ResellerFactory, StaffFactory
from tests.telephony.factories import VosAccountFactory, VosServerFactory

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)

CUSTOMER_PAGES = [
    "customer:dashboard",
    "customer:calls",
    "customer:payments",
    "customer:statement",
    "customer:phonebook",
    "customer:phonebook_add",
    "customer:phonebook_import",
    "profile",
]
RESELLER_PAGES = ["reseller:customers", "reseller:topups", "reseller:customer_create"]
ANONYMOUS_PAGES = ["login", "activate", "password_reset"]
STAFF_PAGES = [
    "staff_status",
    "admin:index",
    "admin:auth_user_changelist",
    "admin:auth_user_add",
    "admin:telephony_vosserver_changelist",
    "admin:billing_reconciliation",
]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_policed(response):
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "camera=()" in response.headers.get("Permissions-Policy", "")
    body = response.content.decode()
    for attrs, code in SCRIPT.findall(body):
        if "src=" in attrs or 'type="application/json"' in attrs:
            continue
        nonce = re.search(r'nonce="([^"]+)"', attrs)
        if nonce:
            assert f"'nonce-{nonce.group(1)}'" in csp
        else:
            assert _sha256(code) in csp, f"inline script without a nonce: {code[:80]!r}"


@pytest.fixture
def mapped(db):
    server = VosServerFactory(name="offline")
    agent = VosAccountFactory(server=server, account="agent01")
    customer = VosAccountFactory(server=server, account="1001", agent_account="agent01")
    return customer, agent


@pytest.mark.django_db
def test_every_page_has_a_csp_and_a_permissions_policy(client, mapped):
    customer, agent = mapped
    for name in ANONYMOUS_PAGES:
        assert_policed(client.get(reverse(name)))
    client.force_login(CustomerFactory(vos_account=customer))
    for name in CUSTOMER_PAGES:
        assert_policed(client.get(reverse(name)))
    client.force_login(ResellerFactory(vos_account=agent))
    for name in RESELLER_PAGES:
        assert_policed(client.get(reverse(name)))
    assert_policed(client.get(reverse("reseller:customer_detail", kwargs={"account": "1001"})))
    client.force_login(StaffFactory(is_superuser=True))
    for name in STAFF_PAGES:
        assert_policed(client.get(reverse(name)))
    assert_policed(client.get("/healthz"))
    assert_policed(client.get("/no-such-page/"))


def test_the_hashed_inline_script_is_the_one_in_the_topup_confirm_template():
    """The only inline script allowed by hash; change the template and this fails, so the
    hash (settings.CSP_INLINE_SCRIPT_HASHES) follows or the script moves to a static file."""
    template = Path(settings.BASE_DIR, "templates", "reseller", "topup_confirm.html").read_text()
    hashes = [_sha256(code) for attrs, code in SCRIPT.findall(template) if "nonce" not in attrs]
    assert sorted(hashes) == sorted(settings.CSP_INLINE_SCRIPT_HASHES)


@pytest.mark.django_db
def test_the_topup_confirm_pages_script_is_allowed(client, mapped):
    customer, agent = mapped
    client.force_login(ResellerFactory(vos_account=agent))
    form = client.get(reverse("reseller:topup")).content.decode()
    key = re.search(r'name="key" value="([^"]+)"', form).group(1)
    response = client.post(
        reverse("reseller:topup"),
        {"account": "1001", "direction": "topup", "amount": "5", "memo": "", "key": key},
    )
    assert response.templates[0].name == "reseller/topup_confirm.html"
    assert re.search(r"<script>", response.content.decode())
    assert_policed(response)


@pytest.mark.django_db
def test_the_push_secret_is_accepted_in_a_header(client, db):
    server = VosServerFactory(url="http://127.0.0.1:8080/external/server")
    account = VosAccountFactory(server=server, account="1001", balance=Decimal("1"))
    body = json.dumps({"account": "1001", "money": 42})
    url = reverse("vos_push_header", kwargs={"interface": "CustomerMoneyChange"})
    kwargs = {"data": body, "content_type": "text/html;charset=UTF-8"}

    assert client.post(url, **kwargs).status_code == 404
    assert client.post(url, headers={"X-VOS-Push-Secret": "wrong"}, **kwargs).status_code == 404
    response = client.post(url, headers={"X-VOS-Push-Secret": server.push_secret}, **kwargs)
    assert response.json() == {"retCode": 0}
    account.refresh_from_db()
    assert account.balance == Decimal("42")
