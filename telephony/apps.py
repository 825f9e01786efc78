from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Telephony (VOS3000)"

    def ready(self) -> None:
        from . import signals  # noqa: F401
