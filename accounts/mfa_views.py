"""Two-factor sign-in pages: the code step after the password, and the enrolment pages on
the profile (docs/ACCOUNTS.md, "Two-factor sign-in")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from telephony.errors import Refused

from .mfa_forms import CodeForm, PasskeyNameForm, TotpConfirmForm
from .services import mfa, throttle
from .services.audit import actor_for

_PENDING_TOTP = "accounts.mfa.pending_totp"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _stay_verified(request: HttpRequest) -> None:
    """Removing or replacing the factor this session passed with does not send the person
    back to the code step: the session is bound to one of the factors the login still has."""
    device = getattr(request.user, "otp_device", None)
    if device is None or type(device).objects.filter(pk=device.pk).exists():
        return
    other = mfa.factor_any(user=request.user)
    if other is not None:
        otp_login(request, other)


def _verify_keys(request: HttpRequest) -> list[str]:
    return [f"accounts:mfa:user:{request.user.pk}"]


@sensitive_post_parameters("code")
@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, a recovery code or a passkey."""
    user = request.user
    if user.is_verified() or not mfa.enrolled(user):
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        keys = _verify_keys(request)
        window = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not throttle.attempt_take(keys, limit=settings.AXES_FAILURE_LIMIT, window=window):
            context = {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
        try:
            device = mfa.code_verify(user=user, code=form.cleaned_data["code"])
        except mfa.CodeRefused as exc:
            # django-axes counts a wrong second factor like a wrong password.
            user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=request
            )
            form.add_error(exc.field, exc.message)
        else:
            throttle.attempts_reset(keys)
            otp_login(request, device)
            return redirect(_next_url(request))
    status = mfa.status(user=user)
    return render(
        request,
        "registration/mfa_verify.html",
        {
            "form": form,
            "next": _next_url(request),
            "has_totp": status.totp,
            "has_passkey": bool(status.passkeys),
        },
    )


@never_cache
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The profile's second-factor page: what is set up, add and remove."""
    codes = mfa.recovery_first(user=request.user, actor=actor_for(request))
    return _overview(request, recovery_codes=codes)


def _overview(
    request: HttpRequest, *, recovery_codes=(), renaming: PasskeyNameForm | None = None
) -> HttpResponse:
    """The two-factor page; ``renaming`` is a rename form to show with its errors."""
    status = mfa.status(user=request.user)
    passkeys = [
        (
            passkey,
            renaming
            if renaming is not None and renaming.passkey.pk == passkey.pk
            else PasskeyNameForm(passkey=passkey),
        )
        for passkey in status.passkeys
    ]
    return render(
        request,
        "accounts/mfa.html",
        {"status": status, "passkeys": passkeys, "recovery_codes": recovery_codes},
    )


@sensitive_post_parameters("code")
@never_cache
@login_required
def totp_add(request: HttpRequest) -> HttpResponse:
    """Show a fresh secret once (QR + text), confirm it with a code from the app."""
    form = TotpConfirmForm(request.POST or None)
    device_id = request.session.get(_PENDING_TOTP)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.totp_confirm(
                user=request.user,
                device_id=int(device_id or 0),
                code=form.cleaned_data["code"],
                actor=actor_for(request),
            )
        except Refused as exc:
            form.add_error("code", exc.message)
        else:
            request.session.pop(_PENDING_TOTP, None)
            device = request.user.totpdevice_set.filter(pk=device_id).first()
            if device is not None and not request.user.is_verified():
                otp_login(request, device)
            _stay_verified(request)  # "move to a new phone" removed the old app
            messages.success(request, _("Your authenticator app is set up."))
            if codes:
                return render(request, "accounts/mfa_recovery.html", {"codes": codes})
            return redirect("mfa")
    pending = None
    if request.method == "POST":
        pending = mfa.totp_pending(user=request.user, device_id=int(device_id or 0))
    if pending is None:
        pending = mfa.totp_begin(user=request.user)
    request.session[_PENDING_TOTP] = pending.device.pk
    return render(request, "accounts/mfa_totp.html", {"form": form, "pending": pending})


@require_POST
@login_required
def totp_remove(request: HttpRequest) -> HttpResponse:
    try:
        mfa.totp_remove(user=request.user, actor=actor_for(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        _stay_verified(request)
        messages.success(request, _("The authenticator app was removed."))
    return redirect("mfa")


@never_cache
@require_POST
@login_required
def recovery_regenerate(request: HttpRequest) -> HttpResponse:
    try:
        codes = mfa.recovery_regenerate(user=request.user, actor=actor_for(request))
    except Refused as exc:
        messages.error(request, exc.message)
        return redirect("mfa")
    return render(request, "accounts/mfa_recovery.html", {"codes": codes})


@require_POST
@login_required
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    passkey = get_object_or_404(mfa.passkeys(user=request.user), pk=pk)
    try:
        mfa.passkey_remove(user=request.user, passkey=passkey, actor=actor_for(request))
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        _stay_verified(request)
        messages.success(request, _("The passkey was removed."))
    return redirect("mfa")


@require_POST
@login_required
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    passkey = get_object_or_404(mfa.passkeys(user=request.user), pk=pk)
    form = PasskeyNameForm(request.POST, passkey=passkey)
    if form.is_valid():
        try:
            mfa.passkey_rename(
                user=request.user,
                passkey=passkey,
                name=form.cleaned_data["name"],
                actor=actor_for(request),
            )
        except Refused as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(
                request, _("The passkey is now called “%(name)s”.") % {"name": passkey.name}
            )
            return redirect("mfa")
    return _overview(request, renaming=form)
