"""The reseller area, under /reseller/ (namespace "reseller")."""

from __future__ import annotations

from django.urls import path

from . import rate_views, webhook_views
from . import reseller_access_views as access_views
from . import reseller_phone_views as phone_views
from . import reseller_views as views

app_name = "reseller"

urlpatterns = [
    path("", views.customers, name="customers"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customer/<str:account>/", views.customer_detail, name="customer_detail"),
    path("customer/<str:account>/lock/", views.customer_lock, name="customer_lock"),
    path("customer/<str:account>/limit/", views.customer_limit, name="customer_limit"),
    path("customer/<str:account>/rates/", rate_views.customer_rates, name="customer_rates"),
    path(
        "customer/<str:account>/rates.csv",
        rate_views.customer_rates_csv,
        name="customer_rates_csv",
    ),
    path("customer/<str:account>/phones/", phone_views.customer_phones, name="customer_phones"),
    path(
        "customer/<str:account>/phones/<str:e164>/remove/",
        phone_views.customer_phone_remove,
        name="customer_phone_remove",
    ),
    path(
        "customer/<str:account>/cap-ceiling/",
        phone_views.customer_cap_ceiling,
        name="customer_cap_ceiling",
    ),
    path("customer/<str:account>/access/", access_views.customer_access, name="customer_access"),
    path("topup/", views.topup, name="topup"),
    path("topups/", views.topups, name="topups"),
    path("topups/<int:pk>/", views.receipt, name="receipt"),
    path("webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/enable/", webhook_views.webhook_enable, name="webhook_enable"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
]
