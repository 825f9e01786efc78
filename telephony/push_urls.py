"""VOS -> portal push receiver, under /vos-push/<secret>/<Interface>, or /vos-push/<Interface>
with the secret in the X-VOS-Push-Secret header (kept out of access logs)."""

from __future__ import annotations

from django.urls import path

from . import push

urlpatterns = [
    path("<str:secret>/<str:interface>", push.receive, name="vos_push"),
    path("<str:interface>", push.receive_with_header, name="vos_push_header"),
]
