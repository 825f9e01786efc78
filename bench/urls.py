"""The portal's URLs plus the reference page every page benchmark is compared with."""

from __future__ import annotations

from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/bare/", views.bare, name="bench_bare"),
    path("", include("portal.urls")),
]
