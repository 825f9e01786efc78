"""Fetch call records for a range of server days: `manage.py cdr_backfill --server NAME
--from YYYY-MM-DD --to YYYY-MM-DD`. Safe to repeat: records already stored are skipped."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from telephony.models import VosServer
from telephony.services.cdrs import cdr_backfill
from telephony.vos import VosError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a YYYY-MM-DD date: {value!r}") from exc


class Command(BaseCommand):
    help = "Fetch call records of a range of days (in the VOS server's time zone)."

    def add_arguments(self, parser):
        parser.add_argument("--server", required=True, help="The VOS server's name.")
        parser.add_argument("--from", dest="first", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", required=True, help="Last day, YYYY-MM-DD.")

    def handle(self, *args, server, first, last, **options):
        first_day, last_day = _day(first), _day(last)
        if first_day > last_day:
            raise CommandError("--from is after --to")
        vos_server = VosServer.objects.filter(name=server).first()
        if vos_server is None:
            raise CommandError(f"no VOS server named {server!r}")

        def progress(begin: date, end: date, rows: int) -> None:
            self.stdout.write(f"{begin:%Y-%m-%d}..{end:%Y-%m-%d}: {rows} new records")

        try:
            added = cdr_backfill(
                server=vos_server, first=first_day, last=last_day, progress=progress
            )
        except (VosError, RuntimeError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"{added} new call records"))
