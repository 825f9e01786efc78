"""The reseller area, under /reseller/ (namespace "reseller")."""

from __future__ import annotations

from django.urls import path

from . import reseller_views as views
from . import webhook_views

app_name = "reseller"

urlpatterns = [
    path("", views.customers, name="customers"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customer/<str:account>/", views.customer_detail, name="customer_detail"),
    path("customer/<str:account>/lock/", views.customer_lock, name="customer_lock"),
    path("customer/<str:account>/limit/", views.customer_limit, name="customer_limit"),
    path("topup/", views.topup, name="topup"),
    path("topups/", views.topups, name="topups"),
    path("topups/<int:pk>/", views.receipt, name="receipt"),
    path("webhooks/", webhook_views.webhooks_page, name="webhooks"),
    path("webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path("webhooks/<int:pk>/enable/", webhook_views.webhook_enable, name="webhook_enable"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
]
