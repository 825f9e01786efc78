"""VOS -> portal push receiver, under /vos-push/<secret>/<Interface>."""

from __future__ import annotations

urlpatterns: list = []
