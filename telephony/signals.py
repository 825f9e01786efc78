"""Keep the VosServer named by VOS_URL in step with the settings, at every start; tell the
layers above about staff changes to a server (they audit them)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver

log = logging.getLogger(__name__)

# Sent by VosServerAdmin after staff saved a change: server=, request=, before=, after=
# (dicts of the audited fields; secrets masked). accounts.admin writes the AuditLog row.
server_changed_in_admin = Signal()


def ensure_configured_server():
    """Create or update the VosServer named by VOS_SERVER_NAME from VOS_URL (if set)."""
    from .models import VosServer

    if not settings.VOS_URL:
        return None
    server, created = VosServer.objects.update_or_create(
        name=settings.VOS_SERVER_NAME,
        defaults={
            "url": settings.VOS_URL.rstrip("/"),
            "read_timeout": settings.VOS_TIMEOUT,
            "connect_timeout": settings.VOS_CONNECT_TIMEOUT,
            "time_zone": settings.VOS_TIME_ZONE,
        },
    )
    if created:
        log.info("VOS server %s created from VOS_URL", server.name)
    return server


@receiver(post_migrate)
def _sync_configured_server(sender, app_config=None, **kwargs):
    if app_config is not None and app_config.name == "telephony":
        ensure_configured_server()
