"""``manage.py api_key_create --user U --name N [--scope S ...] [--allow-ip CIDR ...]``.

Prints the new key alone on its last line (it is shown only this once)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.services.apikeys import SCOPES, api_key_create
from accounts.services.audit import Actor
from telephony.errors import Refused


class Command(BaseCommand):
    help = "Create an API key for a portal user and print it (once)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the key's owner.")
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument(
            "--scope", action="append", choices=SCOPES, help="read (default), money, accounts."
        )
        parser.add_argument("--allow-ip", action="append", default=[], help="A CIDR; repeat.")
        parser.add_argument("--expires-days", type=int, help="Expire after this many days.")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        expires_at = None
        if options["expires_days"]:
            expires_at = timezone.now() + timedelta(days=options["expires_days"])
        try:
            created = api_key_create(
                actor=Actor(user=None),
                user=user,
                name=options["name"],
                scopes=options["scope"] or ["read"],
                allowed_ips=options["allow_ip"],
                expires_at=expires_at,
            )
        except Refused as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Key {created.key.prefix} for {user.username} "
            f"(scopes: {', '.join(created.key.scopes)}). It is shown only now:"
        )
        self.stdout.write(created.text)
