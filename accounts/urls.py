from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import access_views, apikey_views, mfa_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", mfa_views.verify, name="mfa_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/two-factor/", mfa_views.overview, name="mfa"),
    path("profile/two-factor/app/", mfa_views.totp_add, name="mfa_totp_add"),
    path("profile/two-factor/app/remove/", mfa_views.totp_remove, name="mfa_totp_remove"),
    path(
        "profile/two-factor/recovery-codes/",
        mfa_views.recovery_regenerate,
        name="mfa_recovery_regenerate",
    ),
    path(
        "profile/two-factor/passkeys/<int:pk>/remove/",
        mfa_views.passkey_remove,
        name="mfa_passkey_remove",
    ),
    path(
        "profile/two-factor/passkeys/<int:pk>/rename/",
        mfa_views.passkey_rename,
        name="mfa_passkey_rename",
    ),
    path("profile/api-keys/", apikey_views.api_keys, name="api_keys"),
    path(
        "profile/api-keys/<int:pk>/revoke/",
        apikey_views.api_key_revoke_view,
        name="api_key_revoke",
    ),
    path("activate/", views.activate, name="activate"),
    path("link/<str:token>/", access_views.signin_link, name="signin_link"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path(
        "password-change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
