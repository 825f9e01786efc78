from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from telephony.models import VosServer

from .services.access import password_reset_email_queue
from .services.onboarding import username_taken

# The zones people pick most; a stored zone outside this list stays selectable.
COMMON_TIME_ZONES = [
    "UTC",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Jakarta",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Dubai",
    "Asia/Riyadh",
    "Asia/Tehran",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Cairo",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Africa/Johannesburg",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
]


def time_zone_choices(zones: list[str]) -> list[tuple[str, str]]:
    """Zones labelled with their offset today, "(UTC+08:00) Asia/Shanghai", west to east."""
    now = datetime.now(UTC)
    labelled = []
    for zone in zones:
        offset = now.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        label = f"(UTC{sign}{hours:02d}:{rest:02d}) {zone.replace('_', ' ')}"
        labelled.append((minutes, zone, label))
    return [(zone, label) for _minutes, zone, label in sorted(labelled)]


_DIGITS = re.compile(r"[\s\-().]")


def _autocomplete(field: forms.Field, value: str) -> None:
    field.widget.attrs["autocomplete"] = value


class LoginForm(AuthenticationForm):
    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        _autocomplete(self.fields["password"], "current-password")


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's "forgot password" form, whose e-mails the worker sends after the commit
    (the same e-mail staff and resellers queue): the page answers at once, mail server or
    not, and as fast for an unknown address as for a known one."""

    def save(self, *, request=None, use_https=False, domain_override=None, **kwargs):
        if domain_override:
            base_url = f"{'https' if use_https else 'http'}://{domain_override}/"
        else:
            base_url = request.build_absolute_uri("/")
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_email_queue(user=user, base_url=base_url)


class NewLoginForm(forms.Form):
    """Username and a new password (twice), checked by the configured validators."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    email_for_validation = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if username and username_taken(username):
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean(self):
        cleaned = super().clean()
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            user = get_user_model()(
                username=cleaned.get("username") or "",
                email=cleaned.get("email") or self.email_for_validation,
            )
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class InvitationAcceptForm(NewLoginForm):
    def __init__(self, *args, invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.email_for_validation = invitation.email
        self.fields["username"].initial = invitation.email


class ActivationForm(NewLoginForm):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=32,
        help_text=_("The number as your operator gave it, in international format."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    web_password = forms.CharField(
        label=_("Web query password"),
        strip=False,
        max_length=128,
        help_text=_("The password your operator gave you to query this number online."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    server = forms.ModelChoiceField(
        label=_("Operator"),
        queryset=VosServer.objects.none(),
        required=False,
        empty_label=_("Any (search all)"),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Needed to reset a forgotten password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    field_order = ["phone", "web_password", "server", "username", "email", "password1"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        servers = VosServer.objects.filter(enabled=True)
        if servers.count() > 1:
            self.fields["server"].queryset = servers
        else:
            del self.fields["server"]
        username = self.fields["username"]
        username.required = False
        username.help_text = _("Leave empty to use your account number.")

    def clean_phone(self) -> str:
        phone = _DIGITS.sub("", self.cleaned_data["phone"]).lstrip("+")
        if not phone.isdigit() or len(phone) < 3:
            raise forms.ValidationError(_("Enter the number in digits, e.g. 8613800001001."))
        return phone


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Used for low-balance alerts and password resets."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=(), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=(), required=False)
    low_balance_threshold = forms.DecimalField(
        label=_("Low-balance alert threshold"),
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "We e-mail you, and the dashboard warns you, when your balance falls below this amount."
        ),
    )

    def __init__(self, *args, with_threshold: bool, current_time_zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["language"].choices = [("", _("Browser default"))] + list(settings.LANGUAGES)
        zones = list(COMMON_TIME_ZONES)
        if current_time_zone and current_time_zone not in zones:
            zones.append(current_time_zone)
        self.fields["time_zone"].choices = [
            ("", _("Portal default (%(zone)s)") % {"zone": settings.TIME_ZONE})
        ] + time_zone_choices(zones)
        if not with_threshold:
            del self.fields["low_balance_threshold"]

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"]
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError(_("Unknown time zone.")) from None
        return zone
