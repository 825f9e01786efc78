from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from telephony.net import client_ip

from .forms import (
    ActivationForm,
    InvitationAcceptForm,
    LoginForm,
    ProfileForm,
    QueuedPasswordResetForm,
)
from .models import Profile, Role
from .scoping import profile_of
from .services import onboarding, throttle

# Onboarding logs the new user in without a password round-trip through the axes backend.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def language_cookie_set(response, language: str) -> None:
    """Make `language` the one LocaleMiddleware picks on the next requests."""
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )


def _login_and_greet(request: HttpRequest, user) -> HttpResponse:
    login(request, user, backend=_BACKEND)
    response = redirect("home")
    profile = profile_of(user)
    if profile is not None and profile.language:
        language_cookie_set(response, profile.language)
    return response


def login_throttle_keys(request: HttpRequest) -> list[str]:
    username = str(request.POST.get("username", "")).strip().casefold()[:150]
    return [f"accounts:login:user:{username}", f"accounts:login:ip:{client_ip(request)}"]


class LoginView(auth_views.LoginView):
    """Django's login, with every password check counted atomically *before* it is made.

    django-axes counts failures after the check, so many attempts sent at once all get
    checked before the first failure is stored. Here each POST first takes an attempt on
    its username and address (``throttle.attempt_take``, the same limit and window as
    axes); the ones over the limit get the lock-out page without a password check. A
    successful login resets both counters, as axes does.
    """

    form_class = LoginForm
    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        keys = login_throttle_keys(request)
        window = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not throttle.attempt_take(keys, limit=settings.AXES_FAILURE_LIMIT, window=window):
            context = {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            throttle.attempts_reset(keys)
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        # The language chosen on the profile wins from the moment of login.
        profile = profile_of(form.get_user())
        if profile is not None and profile.language:
            language_cookie_set(response, profile.language)
            translation.activate(profile.language)
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("profile")
    success_message = gettext_lazy("Your password was changed.")

    def form_valid(self, form):
        response = super().form_valid(form)
        Profile.objects.filter(user=self.request.user).update(must_change_password=False)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = onboarding.invitation_from_token(token)
    except onboarding.InvitationInvalid as exc:
        return render(
            request, "accounts/invitation_invalid.html", {"error": exc.message}, status=400
        )
    form = InvitationAcceptForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = onboarding.invitation_accept(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                # The language the page was read in becomes the profile's.
                language=translation.get_language(),
            )
        except onboarding.InvitationInvalid as exc:
            return render(
                request, "accounts/invitation_invalid.html", {"error": exc.message}, status=400
            )
        except onboarding.OnboardingError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Welcome! Your login is ready."))
            return _login_and_greet(request, user)
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@sensitive_post_parameters("web_password", "password1", "password2")
@csrf_protect
@never_cache
def activate(request: HttpRequest) -> HttpResponse:
    """A customer proves they own a number (VOS web-query password) and gets a login."""
    if request.user.is_authenticated:
        return redirect("home")
    form = ActivationForm(request.POST or None)
    notice = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            proven = onboarding.activation_check(
                phone=data["phone"],
                password=data["web_password"],
                ip=client_ip(request) or "unknown",
                server=data.get("server"),
            )
            user = onboarding.activation_complete(
                proven=proven,
                username=data["username"] or proven.account,
                password=data["password1"],
                email=data["email"],
                language=translation.get_language(),
            )
        except onboarding.ActivationUnavailable as exc:
            notice = exc.message
        except onboarding.OnboardingError as exc:
            if exc.field == "username" and not data["username"]:
                exc.message = _("Your account number is taken as a username: choose another.")
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Welcome! Your login is ready."))
            return _login_and_greet(request, user)
    return render(request, "accounts/activate.html", {"form": form, "vos_notice": notice})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    own, _created = Profile.objects.select_related("vos_account__server").get_or_create(
        user=user, defaults={"role": Role.STAFF if user.is_staff else Role.CUSTOMER}
    )
    with_threshold = own.role in (Role.CUSTOMER, Role.RESELLER)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": own.language,
        "time_zone": own.time_zone,
        "low_balance_threshold": own.low_balance_threshold,
    }
    form = ProfileForm(
        request.POST or None,
        initial=initial,
        with_threshold=with_threshold,
        current_time_zone=own.time_zone,
    )
    if request.method == "POST" and form.is_valid():
        own = onboarding.profile_update(user=user, **form.cleaned_data)
        if own.language:
            translation.activate(own.language)
        messages.success(request, _("Your profile was saved."))
        response = redirect("profile")
        language_cookie_set(response, own.language)
        return response
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "profile": own,
            "with_threshold": with_threshold,
            "default_threshold": Decimal(settings.LOW_BALANCE_DEFAULT),
        },
    )


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """/admin/login/ is the portal's login (one throttle, one second step for everybody)."""
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target, reverse("login"))
