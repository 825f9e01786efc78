"""Create or update a portal login and its (server, account) mapping.

    manage.py portal_user --username alice --role customer --vos-account 1001 [--server emu]
    manage.py portal_user --username ops --role staff --superuser --random-password

The password comes from --password, else PORTAL_USER_PASSWORD, else --random-password
(printed once), else an interactive prompt. An existing user keeps its password when none
is given.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Profile, Role
from accounts.services.onboarding import portal_user_create
from telephony.models import VosAccount, VosServer
from telephony.services.mirror import account_refresh

PASSWORD_ENV = "PORTAL_USER_PASSWORD"


class Command(BaseCommand):
    help = "Create or update a portal user (customer, reseller or staff) and its VOS account."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", choices=Role.values, help="Required for a new user.")
        parser.add_argument("--vos-account", dest="vos_account", help="VOS account number.")
        parser.add_argument(
            "--server", help="VOS server name (needed when more than one server exists)."
        )
        parser.add_argument("--email")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--password", help=f"Or set {PASSWORD_ENV}, or be prompted.")
        secret.add_argument(
            "--random-password", action="store_true", help="Generate one and print it."
        )
        parser.add_argument(
            "--superuser", action="store_true", help="With --role staff: all permissions."
        )

    def handle(self, *args, **options):
        user_model = get_user_model()
        username = options["username"].strip()
        if not username:
            raise CommandError("--username must not be empty.")
        user = user_model.objects.filter(username=username).select_related("profile").first()
        profile = getattr(user, "profile", None) if user else None
        role = options["role"] or (profile.role if profile else None)
        if role is None:
            raise CommandError("--role is required for a new user (customer, reseller or staff).")
        if options["superuser"] and role != Role.STAFF:
            raise CommandError("--superuser needs --role staff.")

        vos_account = self._vos_account(options, role, profile)
        if role == Role.CUSTOMER and vos_account is not None:
            self._one_customer_login(vos_account, username)
        password, generated = self._password(options, creating=user is None)
        if password is not None:
            probe = user or user_model(username=username, email=options["email"] or "")
            try:
                password_validation.validate_password(password, probe)
            except ValidationError as exc:
                raise CommandError("Password refused: " + " ".join(exc.messages)) from None

        with transaction.atomic():
            if user is None:
                user = portal_user_create(
                    username=username,
                    password=password,
                    role=role,
                    vos_account=vos_account,
                    email=options["email"] or "",
                    superuser=options["superuser"],
                )
                action = "Created"
            else:
                self._update(user, options, role=role, password=password, vos_account=vos_account)
                action = "Updated"

        mapping = f" -> {vos_account.account}@{vos_account.server.name}" if vos_account else ""
        self.stdout.write(self.style.SUCCESS(f"{action} {role} {username}{mapping}"))
        if generated:
            self.stdout.write(f"Password: {password}")

    @staticmethod
    def _one_customer_login(vos_account: VosAccount, username: str) -> None:
        other = (
            Profile.objects.filter(vos_account=vos_account, role=Role.CUSTOMER)
            .exclude(user__username=username)
            .select_related("user")
            .first()
        )
        if other is not None:
            raise CommandError(
                f"Account {vos_account.account} on {vos_account.server.name} already has a "
                f"customer login: {other.user.username}."
            )

    @staticmethod
    def _update(user, options, *, role: str, password, vos_account) -> None:
        if password is not None:
            user.set_password(password)
        if options["email"] is not None:
            user.email = options["email"]
        user.is_staff = role == Role.STAFF
        user.is_superuser = role == Role.STAFF and (options["superuser"] or user.is_superuser)
        user.save()
        Profile.objects.update_or_create(
            user=user, defaults={"role": role, "vos_account": vos_account}
        )

    def _vos_account(self, options, role: str, profile: Profile | None) -> VosAccount | None:
        account = (options["vos_account"] or "").strip()
        if role == Role.STAFF:
            if account:
                raise CommandError("Staff logins have no VOS account: drop --vos-account.")
            return None
        if not account:
            if profile is not None and profile.vos_account_id and not options["server"]:
                return VosAccount.objects.select_related("server").get(pk=profile.vos_account_id)
            raise CommandError(f"A {role} needs --vos-account (the VOS account number).")
        server = self._server(options["server"])
        vos_account, created = VosAccount.objects.select_related("server").get_or_create(
            server=server, account=account
        )
        if created:
            # Fill the figures now if VOS answers; the sync job does it otherwise.
            refresh = account_refresh(vos_account=vos_account)
            if refresh.error is not None:
                self.stderr.write(
                    f"Warning: {server.name} did not confirm account {account} "
                    f"({refresh.error.message}); the mirror row will be filled by the next sync."
                )
        return vos_account

    def _server(self, name: str | None) -> VosServer:
        if name:
            server = VosServer.objects.filter(name=name).first()
            if server is None:
                known = ", ".join(VosServer.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"Unknown VOS server {name!r} (known: {known}).")
            return server
        servers = list(VosServer.objects.all()[:2])
        if not servers:
            raise CommandError("No VOS server is configured yet: add one first.")
        if len(servers) > 1:
            raise CommandError("There are several VOS servers: pass --server NAME.")
        return servers[0]

    def _password(self, options, *, creating: bool) -> tuple[str | None, bool]:
        if options["password"] is not None:
            if not options["password"]:
                raise CommandError("--password must not be empty.")
            return options["password"], False
        if os.environ.get(PASSWORD_ENV):
            return os.environ[PASSWORD_ENV], False
        if options["random_password"]:
            return secrets.token_urlsafe(12), True
        if not creating:
            return None, False
        if not sys.stdin.isatty():
            raise CommandError(
                f"No password: pass --password, set {PASSWORD_ENV}, or use --random-password."
            )
        first = getpass.getpass("Password: ")
        if not first or first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords are empty or differ.")
        return first, False
