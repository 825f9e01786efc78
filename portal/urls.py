from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from telephony import staff_views

from . import views
from .api import api
from .api.main import not_found as api_not_found

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("my/", include("portal.customer_urls")),
    path("reseller/", include("billing.reseller_urls")),
    path("vos-push/", include("telephony.push_urls")),
    path("staff/status/", staff_views.status, name="staff_status"),
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
