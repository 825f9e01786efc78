from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony (VOS3000)")

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .models import SyncState
        from .services import balances, cdrs, discovery, rates
        from .services.jobs import job_register

        job = SyncState.Job
        job_register(job.DISCOVERY, discovery.discovery_job, lock_timeout=30 * 60)
        job_register(job.BALANCES, balances.balances_job, lock_timeout=5 * 60)
        job_register(job.CDRS, cdrs.cdrs_job, lock_timeout=60 * 60)
        job_register(job.RATES, rates.rates_job, lock_timeout=30 * 60)
