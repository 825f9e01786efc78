"""The customer's own pages, under /my/ (namespace "customer")."""

from __future__ import annotations

from django.urls import path
from django.views.generic import TemplateView

app_name = "customer"

_todo = TemplateView.as_view(template_name="base.html")

urlpatterns = [
    path("", _todo, name="dashboard"),
    path("calls/", _todo, name="calls"),
    path("payments/", _todo, name="payments"),
    path("statement/", _todo, name="statement"),
    path("phonebook/", _todo, name="phonebook"),
]
