"""The reseller area, under /reseller/ (namespace "reseller")."""

from __future__ import annotations

from django.urls import path
from django.views.generic import TemplateView

app_name = "reseller"

_todo = TemplateView.as_view(template_name="base.html")

urlpatterns = [
    path("", _todo, name="customers"),
    path("customers/new/", _todo, name="customer_create"),
    path("topups/", _todo, name="topups"),
]
