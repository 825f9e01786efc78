"""A hanging switch under gunicorn with DEPLOY.md's settings: every write action answers
within its budget, never a 5xx, never a WORKER TIMEOUT.

The portal runs in a real gunicorn (``--timeout 30`` as in docs/DEPLOY.md) on a free
127.0.0.1 port, on its own SQLite file, against an emulator whose every answer hangs for
good (``garbage_mode: hang``, ``hang_seconds: 0``)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.accounts.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
BUDGETS = {
    "VOS_PAGE_TIMEOUT": 1.0,
    "VOS_WRITE_BUDGET_SECONDS": 3.0,
    "TOPUP_WAIT_SECONDS": 3.0,
    "PHONEBOOK_IMPORT_BUDGET_SECONDS": 4.0,
}
PHONEBOOK_WRITES = "CreateCustomerPhoneBook,ModifyCustomerPhoneBook,DeleteCustomerPhoneBook"
# What a request may take beyond its budget: Django's own work, a slow CI machine.
MARGIN = 2.5

SETUP = f"""
from decimal import Decimal
from django.contrib.auth import get_user_model
from accounts.models import Profile, Role
from telephony.models import VosAccount, VosServer
server = VosServer.objects.get()
User = get_user_model()
def login(name, role, account, **extra):
    acc, _ = VosAccount.objects.get_or_create(server=server, account=account,
        defaults={{"agent_account": "agent01" if account != "agent01" else ""}})
    user = User.objects.create_user(name, password={PASSWORD!r})
    Profile.objects.create(user=user, role=role, vos_account=acc, **extra)
login("cust", Role.CUSTOMER, "1001")
login("resel", Role.RESELLER, "agent01", topup_cap_per_transaction=Decimal("100"),
      topup_cap_per_day=Decimal("1000"))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path, vos_emulator):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "budget-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "REDIS_URL": "",
        "VOS_URL": vos_emulator.url,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "PORTAL_TESTING": "",
        "LOG_LEVEL": "WARNING",
        # The reseller signs in with its password only (second factor: tests/accounts).
        "MFA_REQUIRED_ROLES": "",
        "STATIC_ROOT": str(tmp_path / "static"),
        **{k: str(v) for k, v in BUDGETS.items()},
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([python, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = _free_port()
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 - closed below
    # DEPLOY.md's command line, with 3 workers instead of 2 * cores + 1.
    proc = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--timeout",
            "30",
            "--max-requests",
            "2000",
            "--max-requests-jitter",
            "200",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(base + "/healthz", timeout=5).ok:
                break
        except requests.RequestException:
            pass
        time.sleep(0.1)
    try:
        yield base, tmp_path / "gunicorn.log"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/accounts/login/")
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        base + "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def _form_post(session, url: str, data: dict, files=None) -> tuple[int, float]:
    page = session.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    data = {**data, "csrfmiddlewaretoken": token}
    if key:
        data["key"] = key.group(1)
    started = time.monotonic()
    response = session.post(url, data, files=files, allow_redirects=False, timeout=60)
    return response.status_code, time.monotonic() - started


@pytest.mark.django_db
def test_every_write_action_answers_within_its_budget_while_the_switch_hangs(
    gunicorn, vos_emulator
):
    base, log = gunicorn
    customer, reseller = _session(base, "cust"), _session(base, "resel")
    anonymous = requests.Session()
    vos_emulator.faults.update({"garbage_mode": "hang", "hang_seconds": 0})
    write = BUDGETS["VOS_WRITE_BUDGET_SECONDS"]
    page = BUDGETS["VOS_PAGE_TIMEOUT"]
    csv = ("book.csv", b"e164,name\n8613700000001,A\n8613700000002,B\n", "text/csv")
    actions = [
        ("lock", reseller, "/reseller/customer/1001/lock/", {"lock": "1"}, None, write),
        (
            "limit",
            reseller,
            "/reseller/customer/1001/limit/",
            {"limit_money": "20", "confirm": "1"},
            None,
            write,
        ),
        (
            "create",
            reseller,
            "/reseller/customers/new/",
            {
                "account": "7001",
                "name": "New",
                "limit_money": "0",
                "e164": "8613700007001",
                "web_password": "secret77",
                "email": "",
            },
            None,
            write,
        ),
        (
            "topup",
            reseller,
            "/reseller/topup/",
            {"account": "1001", "direction": "topup", "amount": "5", "memo": "", "confirm": "1"},
            None,
            BUDGETS["TOPUP_WAIT_SECONDS"],
        ),
        (
            "activate",
            anonymous,
            "/accounts/activate/",
            {
                "phone": "8613800001001",
                "web_password": "web1001",
                "username": "act1",
                "email": "",
                "password1": "Silver-Kettle-5150",
                "password2": "Silver-Kettle-5150",
            },
            None,
            write,
        ),
        (
            "phonebook add",
            customer,
            "/my/phonebook/add/",
            {"e164": "8613700000009"},
            None,
            page + write,
        ),
        (
            "phonebook edit",
            customer,
            "/my/phonebook/8613912345678/edit/",
            {"e164": "8613912345678", "name": "x"},
            None,
            page + write,
        ),
        (
            "phonebook delete",
            customer,
            "/my/phonebook/8613912345678/delete/",
            {},
            None,
            page + write,
        ),
        (
            "phonebook import",
            customer,
            "/my/phonebook/import/",
            {},
            {"file": csv},
            page + BUDGETS["PHONEBOOK_IMPORT_BUDGET_SECONDS"],
        ),
    ]
    slow, failed = {}, {}
    for name, session, url, data, files, budget in actions:
        if name.startswith("phonebook"):
            # The book's read answers; the write itself hangs.
            vos_emulator.faults.update({"garbage_interfaces": PHONEBOOK_WRITES})
        status, elapsed = _form_post(session, base + url, data, files)
        if status >= 500:
            failed[name] = status
        if elapsed > budget + MARGIN:
            slow[name] = round(elapsed, 1)
    text = Path(log).read_text()
    assert failed == {} and slow == {}, text[-3000:]
    assert "WORKER TIMEOUT" not in text
    # Each action really waited on the switch (not refused by a form before it).
    reached = ["ModifyCustomer", "CreateCustomer", "Pay", "GetPhone", *PHONEBOOK_WRITES.split(",")]
    assert {i: vos_emulator.calls[i] for i in reached if not vos_emulator.calls[i]} == {}
