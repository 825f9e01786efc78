"""Forms of the customer's phone pages: they only clean data (the rules are in the service)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _


class SipPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New SIP password"),
        strip=False,
        max_length=64,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "10 to 32 characters; at least three of: lower case, upper case, digits, symbols."
        ),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        max_length=64,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class PhoneCapForm(forms.Form):
    cap = forms.CharField(
        label=_("Monthly spending cap"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_cap(self) -> Decimal:
        raw = (self.cleaned_data.get("cap") or "").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or "e" in raw.lower():
            raise forms.ValidationError(_("Enter an amount, e.g. 30 or 12.50."))
        if value.as_tuple().exponent < -2:
            raise forms.ValidationError(_("Use at most 2 decimal places."))
        return value


class CeilingForm(PhoneCapForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cap"].label = _("Most a customer may cap a phone at, per month")
