"""The customer's own pages, under /my/ (namespace "customer")."""

from __future__ import annotations

from django.urls import path

from accounts import phone_views, phonebook_views
from billing import call_views, card_views, online_views, rate_views
from billing import views as billing_views

app_name = "customer"

urlpatterns = [
    path("", billing_views.dashboard, name="dashboard"),
    path("calls/", call_views.calls, name="calls"),
    path("calls/export.csv", call_views.calls_csv, name="calls_csv"),
    path("calls/totals/", call_views.calls_totals_part, name="calls_totals"),
    path("payments/", billing_views.payments, name="payments"),
    path("topup/", online_views.topup, name="topup"),
    path("topup/<uuid:reference>/", online_views.topup_return, name="topup_return"),
    path(
        "topup/test-gateway/<uuid:reference>/",
        online_views.topup_test_gateway,
        name="topup_test_gateway",
    ),
    path("rates/", rate_views.rates, name="rates"),
    path("rates/export.csv", rate_views.rates_csv, name="rates_csv"),
    path("topup/card/", card_views.card_topup, name="card_topup"),
    path("topups/<int:pk>/", card_views.receipt, name="receipt"),
    path("statement/", billing_views.statement, name="statement"),
    path("phones/", phone_views.phones, name="phones"),
    path("phones/<str:e164>/password/", phone_views.phone_password, name="phone_password"),
    path("phones/<str:e164>/cap/", phone_views.phone_cap, name="phone_cap"),
    path("phonebook/", phonebook_views.phonebook, name="phonebook"),
    path("phonebook/add/", phonebook_views.phonebook_add, name="phonebook_add"),
    path("phonebook/import/", phonebook_views.phonebook_import_view, name="phonebook_import"),
    path("phonebook/export.csv", phonebook_views.phonebook_export, name="phonebook_export"),
    path("phonebook/<str:e164>/edit/", phonebook_views.phonebook_edit, name="phonebook_edit"),
    path("phonebook/<str:e164>/delete/", phonebook_views.phonebook_delete, name="phonebook_delete"),
]
