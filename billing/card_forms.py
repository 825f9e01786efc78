"""The calling-card top-up form: it only cleans data (the card is checked by the service)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

CARD_PIN = re.compile(r"^[0-9]{4,32}$")
CARD_PASSWORD_MAX = 64


class CardTopupForm(forms.Form):
    pin = forms.CharField(
        label=_("Card number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_("The number printed on the card; spaces and dashes are ignored."),
    )
    password = forms.CharField(
        label=_("Card password"),
        max_length=CARD_PASSWORD_MAX,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_pin(self) -> str:
        value = re.sub(r"[\s\-]", "", self.cleaned_data.get("pin") or "")
        if not CARD_PIN.match(value):
            raise forms.ValidationError(_("A card number is 4 to 32 digits."))
        return value

    def clean_password(self) -> str:
        value = self.cleaned_data.get("password") or ""
        if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise forms.ValidationError(_("Enter the card's password as printed on it."))
        return value
