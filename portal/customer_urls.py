"""The customer's own pages, under /my/ (namespace "customer")."""

from __future__ import annotations

from django.urls import path

from billing import views as billing_views
from telephony import views as telephony_views

app_name = "customer"

urlpatterns = [
    path("", billing_views.dashboard, name="dashboard"),
    path("calls/", telephony_views.calls, name="calls"),
    path("calls/export.csv", telephony_views.calls_csv, name="calls_csv"),
    path("payments/", billing_views.payments, name="payments"),
    path("statement/", billing_views.statement, name="statement"),
    path("phonebook/", telephony_views.phonebook, name="phonebook"),
    path("phonebook/add/", telephony_views.phonebook_add, name="phonebook_add"),
    path("phonebook/import/", telephony_views.phonebook_import_view, name="phonebook_import"),
    path("phonebook/export.csv", telephony_views.phonebook_export, name="phonebook_export"),
    path("phonebook/<str:e164>/edit/", telephony_views.phonebook_edit, name="phonebook_edit"),
    path("phonebook/<str:e164>/delete/", telephony_views.phonebook_delete, name="phonebook_delete"),
]
