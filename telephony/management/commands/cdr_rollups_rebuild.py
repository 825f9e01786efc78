"""``manage.py cdr_rollups_rebuild [--server NAME] [--since DAY] [--until DAY]``."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError

from telephony.models import VosServer
from telephony.services.cdr_rollups import rollups_rebuild


def _day(value: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.min, UTC)
    except ValueError as exc:
        raise CommandError(f"{value!r}: expected YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = (
        "Recompute the call rollups from the stored call records (default: the whole span of "
        "the records still stored; buckets whose records retention removed are kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--server", help="only this server (its name)")
        parser.add_argument("--since", type=_day, help="first UTC day (YYYY-MM-DD)")
        parser.add_argument("--until", type=_day, help="last UTC day (YYYY-MM-DD), included")

    def handle(self, *args, server=None, since=None, until=None, **options):
        server_id = None
        if server:
            found = VosServer.objects.filter(name=server).first()
            if found is None:
                raise CommandError(f"no server named {server!r}")
            server_id = found.pk
        if until is not None:
            until += timedelta(days=1) - timedelta(microseconds=1)
        rows = rollups_rebuild(server_id=server_id, since=since, until=until)
        self.stdout.write(f"{rows} rollup rows written")
