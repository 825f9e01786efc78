from __future__ import annotations

import zoneinfo

from django.utils import timezone

from .scoping import profile_of


class UserTimezoneMiddleware:
    """Render times in the logged-in user's own time zone (Profile.time_zone)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = profile_of(user)
            if profile is not None and profile.time_zone:
                try:
                    tz = zoneinfo.ZoneInfo(profile.time_zone)
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    tz = None
        if tz is not None:
            timezone.activate(tz)
        else:
            timezone.deactivate()
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """A login given a temporary password sees only the password change (and sign-out)
    until it has chosen its own (Profile.must_change_password)."""

    # The second-factor pages come first (SecondFactorRequiredMiddleware sends there).
    ALLOWED = {"password_change", "password_change_done", "logout", "set_language"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.shortcuts import redirect
        from django.urls import Resolver404, resolve

        user = getattr(request, "user", None)
        profile = profile_of(user) if user is not None else None
        if profile is not None and profile.must_change_password:
            try:
                name = resolve(request.path_info).view_name
            except Resolver404:
                name = None
            second_factor = (
                SecondFactorRequiredMiddleware.VERIFY | SecondFactorRequiredMiddleware.ENROL
            )
            if name not in self.ALLOWED | second_factor and not request.path_info.startswith(
                "/static/"
            ):
                return redirect("password_change")
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """Nobody reaches the portal, the admin or the API's session pages with the password
    alone when a second factor is due (docs/ACCOUNTS.md, "Two-factor sign-in").

    A signed-in session that has not passed its second factor is sent to the code page when
    the login has a device, or to enrolment when its role needs one (MFA_REQUIRED_ROLES);
    only those pages, sign-out, the language switch and the passkey endpoints they use stay
    open. Sits after django-otp's OTPMiddleware, before the password-change one.
    """

    OPEN = {"logout", "set_language", "otp_webauthn:js-i18n-catalog"}
    VERIFY = OPEN | {
        "mfa_verify",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
    }
    ENROL = OPEN | {
        "mfa",
        "mfa_totp_add",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        if request.path_info.startswith("/static/"):
            return self.get_response(request)
        return self._step(request, user) or self.get_response(request)

    def _step(self, request, user):
        from django.shortcuts import redirect
        from django.urls import Resolver404, resolve, reverse
        from django.utils.http import urlencode

        from .services import mfa

        try:
            name = resolve(request.path_info).view_name
        except Resolver404:
            name = None
        if mfa.enrolled(user):
            if name in self.VERIFY:
                return None
            target = reverse("mfa_verify")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        if mfa.required_for(user) and name not in self.ENROL:
            return redirect("mfa")
        return None
