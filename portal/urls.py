from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path, reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts import views as account_views
from accounts.services import mfa
from telephony import staff_views as telephony_staff_views

from . import staff_views, views
from .api import api
from .api.main import not_found as api_not_found

# The admin carries the portal's name, and "View site" leads to the staff home (the site's
# own "/" sends staff to it too, so the link never loops back into the admin).
admin.site.site_header = format_lazy(_("{name} administration"), name=settings.PORTAL_NAME)
admin.site.site_title = settings.PORTAL_NAME
admin.site.index_title = _("Data and settings")
admin.site.site_url = reverse_lazy("staff_home")
# The admin signs in through the portal's own login (its throttle and the second step), and
# admits only a session that passed its second factor when one is due.
admin.site.login = account_views.admin_login
_admin_has_permission = admin.site.has_permission
admin.site.has_permission = lambda request: (
    _admin_has_permission(request) and mfa.satisfied(request.user)
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("my/", include("portal.customer_urls")),
    path("reseller/", include("billing.reseller_urls")),
    path("payments/", include("billing.online_urls")),
    path("vos-push/", include("telephony.push_urls")),
    path("staff/", staff_views.staff_home, name="staff_home"),
    path("staff/status/", telephony_staff_views.status, name="staff_status"),
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    # Passkey ceremonies (django-otp-webauthn's JSON endpoints and its script's texts).
    path("accounts/webauthn/", include("accounts.webauthn_urls")),
    path("admin/", admin.site.urls),
]
