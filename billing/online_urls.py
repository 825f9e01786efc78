"""The gateway's notification URL (public: verified by signature, rate limited)."""

from __future__ import annotations

from django.urls import path

from . import online_views

app_name = "online"

urlpatterns = [
    path("notify/<str:provider>/", online_views.webhook, name="webhook"),
]
