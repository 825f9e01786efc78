from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from telephony.models import SyncState
        from telephony.services.jobs import job_register

        from . import receivers  # noqa: F401
        from .services import mirror

        job = SyncState.Job
        job_register(job.PAYMENTS, mirror.payments_job, lock_timeout=60 * 60)
        job_register(job.REPORTS, mirror.reports_job, lock_timeout=2 * 60 * 60)
