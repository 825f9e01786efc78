from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.models import Role
from tests.accounts.factories import CustomerFactory
from tests.telephony.factories import VosAccountFactory, VosServerFactory

pytestmark = pytest.mark.django_db

GOOD = "Lantern-Field-2048"


def _run(*args, **kwargs) -> str:
    from io import StringIO

    out = StringIO()
    call_command("portal_user", *args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_creates_a_customer_mapped_to_an_existing_account():
    account = VosAccountFactory(account="1001")
    output = _run(
        "--username",
        "alice",
        "--password",
        GOOD,
        "--role",
        "customer",
        "--vos-account",
        "1001",
        "--email",
        "alice@example.com",
    )
    user = get_user_model().objects.get(username="alice")
    assert user.check_password(GOOD) and user.email == "alice@example.com"
    assert user.profile.role == Role.CUSTOMER and user.profile.vos_account == account
    assert not user.is_staff
    assert "Created customer alice" in output


def test_creates_the_mirror_row_when_the_account_is_new():
    server = VosServerFactory(name="main")
    _run(
        "--username",
        "bob",
        "--password",
        GOOD,
        "--role",
        "reseller",
        "--vos-account",
        "agent77",
        "--server",
        "main",
    )
    profile = get_user_model().objects.get(username="bob").profile
    assert profile.role == Role.RESELLER
    assert (profile.vos_account.server, profile.vos_account.account) == (server, "agent77")


def test_staff_with_superuser_flag_and_a_random_password():
    output = _run("--username", "root", "--role", "staff", "--superuser", "--random-password")
    user = get_user_model().objects.get(username="root")
    assert user.is_staff and user.is_superuser
    password = output.split("Password: ", 1)[1].strip()
    assert len(password) >= 12 and user.check_password(password)


def test_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_USER_PASSWORD", GOOD)
    _run("--username", "ops", "--role", "staff")
    assert get_user_model().objects.get(username="ops").check_password(GOOD)


def test_updates_an_existing_user_and_keeps_its_password():
    user = CustomerFactory(username="carol")
    old_hash = user.password
    other = VosAccountFactory(server=user.profile.vos_account.server, account="1002")
    output = _run("--username", "carol", "--vos-account", "1002", "--email", "c@example.com")
    user.refresh_from_db()
    assert user.password == old_hash and user.email == "c@example.com"
    assert user.profile.vos_account == other
    assert "Updated customer carol" in output


def test_update_can_change_the_role_to_staff():
    CustomerFactory(username="dave")
    _run("--username", "dave", "--role", "staff")
    user = get_user_model().objects.get(username="dave")
    assert user.is_staff and user.profile.role == Role.STAFF and user.profile.vos_account is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "customer", "--vos-account", "1", "--server", "nope"], "Unknown VOS server"),
        (["--role", "reseller"], "needs --vos-account"),
        (["--role", "customer"], "needs --vos-account"),
        (["--role", "staff", "--vos-account", "1"], "no VOS account"),
        (["--role", "customer", "--vos-account", "1", "--superuser"], "--superuser"),
        ([], "--role is required"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    VosServerFactory(name="main")
    with pytest.raises(CommandError, match=message):
        _run("--username", "eve", "--password", GOOD, *args)
    assert not get_user_model().objects.filter(username="eve").exists()


def test_several_servers_need_a_server_name():
    VosServerFactory(name="a")
    VosServerFactory(name="b")
    with pytest.raises(CommandError, match="--server"):
        _run("--username", "eve", "--password", GOOD, "--role", "customer", "--vos-account", "1")


def test_a_weak_password_is_refused():
    with pytest.raises(CommandError, match="Password refused"):
        _run("--username", "eve", "--password", "123", "--role", "staff")


def test_no_password_and_no_terminal_is_an_error(monkeypatch):
    monkeypatch.delenv("PORTAL_USER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="No password"):
        _run("--username", "eve", "--role", "staff")


def test_an_account_with_a_customer_login_is_not_given_a_second_one():
    existing = CustomerFactory(username="first")
    account = existing.profile.vos_account
    with pytest.raises(CommandError, match="already has a customer login: first"):
        _run(
            "--username",
            "second",
            "--password",
            GOOD,
            "--role",
            "customer",
            "--vos-account",
            account.account,
            "--server",
            account.server.name,
        )
