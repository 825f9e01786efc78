"""``manage.py reconcile_ledger``: settle unknown ledger rows now (what the periodic task does)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from billing.services.transfers import ledger_sweep


class Command(BaseCommand):
    help = "Reconcile unknown ledger rows against VOS pay history and finish open transfers."

    def handle(self, *args, **options):
        summary = ledger_sweep()
        self.stdout.write(str(summary))
        for error in summary.errors:
            self.stderr.write(error)
