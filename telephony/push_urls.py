"""VOS -> portal push receiver, under /vos-push/<secret>/<Interface>."""

from __future__ import annotations

from django.urls import path

from . import push

urlpatterns = [
    path("<str:secret>/<str:interface>", push.receive, name="vos_push"),
]
