"""Demo data for `make run`: the VOS server, a first sync from the emulator, three logins.

Idempotent: a second run syncs again and keeps the logins (their passwords are only known
from var/demo-logins.txt, written once, since only hashes are stored).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services.onboarding import portal_user_create
from telephony.models import SyncState, VosAccount, VosServer
from telephony.selectors import server_today
from telephony.services.cdrs import cdr_backfill
from telephony.services.jobs import server_job_run
from telephony.signals import ensure_configured_server

DEMO_USERS = (
    # username, role, VOS account, e-mail
    ("demo", Role.CUSTOMER, "1001", "demo.customer@example.com"),
    ("reseller", Role.RESELLER, "agent01", "reseller@example.com"),
    ("admin", Role.STAFF, None, "admin@example.com"),
)
HISTORY_DAYS = 42


class Command(BaseCommand):
    help = "Seed the demo: sync the emulator into the mirror and create the demo logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates logins with printed passwords: DEBUG only.")
        server = ensure_configured_server() or VosServer.objects.filter(enabled=True).first()
        if server is None:
            raise CommandError("No VOS server: set VOS_URL (make run does).")
        self.stdout.write(f"Syncing from {server.url} ...")
        outcome = server_job_run(server=server, job=SyncState.Job.DISCOVERY)
        self.stdout.write(f"  accounts: {outcome.rows} mirrored, {outcome.vos_calls} VOS calls")
        outcome = server_job_run(server=server, job=SyncState.Job.BALANCES)
        known = VosAccount.objects.filter(server=server, missing_since__isnull=True).count()
        # Discovery has just stored every figure: the sweep confirms them and rewrites none.
        self.stdout.write(
            f"  balances: {known} accounts confirmed, {outcome.rows} changed since discovery"
        )
        today = server_today(server)
        added = cdr_backfill(server=server, first=today - timedelta(days=HISTORY_DAYS), last=today)
        self.stdout.write(f"  call records: {added} new")
        jobs = (
            SyncState.Job.CDRS,
            SyncState.Job.PAYMENTS,
            SyncState.Job.REPORTS,
            SyncState.Job.RATES,
        )
        for job in jobs:
            outcome = server_job_run(server=server, job=job)
            self.stdout.write(f"  {job}: {outcome.rows} rows, {outcome.vos_calls} VOS calls")
        self._logins(server)

    def _logins(self, server: VosServer) -> None:
        logins_file = settings.VAR_DIR / "demo-logins.txt"
        users = get_user_model().objects
        lines = []
        for username, role, account, email in DEMO_USERS:
            if users.filter(username=username).exists():
                continue
            vos_account = None
            if account:
                vos_account = VosAccount.objects.get(server=server, account=account)
            password = secrets.token_urlsafe(9)
            portal_user_create(
                username=username,
                password=password,
                role=role,
                vos_account=vos_account,
                email=email,
                superuser=role == Role.STAFF,
            )
            lines.append(f"  {role:<9} {username:<9} password: {password}")
        if lines:
            text = "Demo logins (generated for this checkout):\n" + "\n".join(lines) + "\n"
            with logins_file.open("a") as handle:
                handle.write(text)
            logins_file.chmod(0o600)
