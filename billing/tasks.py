"""Background money jobs (Celery). Thin: each calls one service and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from . import services

log = logging.getLogger(__name__)

LOCK_KEY = "billing:reconcile_unknown"
LOCK_SECONDS = 600


@shared_task(acks_late=True, ignore_result=True)
def reconcile_unknown() -> str:
    """Settle unknown ledger rows against VOS pay history and finish open transfers.

    One run at a time (a cache lock); a second, overlapping run returns at once. Running it
    twice in a row changes nothing the first did not.
    """
    if not cache.add(LOCK_KEY, "1", LOCK_SECONDS):
        return "already running"
    try:
        summary = services.ledger_sweep()
    finally:
        cache.delete(LOCK_KEY)
    if summary.errors:
        log.warning("reconciliation: %s; errors: %s", summary, "; ".join(summary.errors[:5]))
    return str(summary)
