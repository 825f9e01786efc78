"""The passkey endpoints under the names django-otp-webauthn's template tags reverse
(``otp_webauthn:…``), served by accounts/webauthn_views.py."""

from __future__ import annotations

from django.urls import path

from . import webauthn_views

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        webauthn_views.RegistrationBegin.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        webauthn_views.RegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        webauthn_views.AuthenticationBegin.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        webauthn_views.AuthenticationComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path("jsi18n/", webauthn_views.ScriptCatalog.as_view(), name="js-i18n-catalog"),
]
