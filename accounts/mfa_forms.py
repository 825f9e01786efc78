"""The second-factor forms: they only clean data (the rules are in accounts.services.mfa)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.passkey_names import NAME_MAX_LENGTH


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        required=False,  # the service names an empty code itself, the same way as a bad one
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=20,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6 digits your app shows now."),
    )


class PasskeyNameForm(forms.Form):
    """A passkey's new name (accounts.services.mfa.passkey_rename trims and checks it)."""

    name = forms.CharField(
        label=_("Passkey name"),
        required=False,  # the service says when it is empty or too long, as the API would
        widget=forms.TextInput(
            attrs={"maxlength": NAME_MAX_LENGTH, "required": True, "autocomplete": "off"}
        ),
    )

    def __init__(self, *args, passkey, **kwargs):
        kwargs.setdefault("initial", {"name": passkey.name})
        super().__init__(*args, prefix=f"passkey-{passkey.pk}", **kwargs)
        self.passkey = passkey
