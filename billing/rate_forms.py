"""The rates page's forms: search, and "How long can I talk?"."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

NUMBER = re.compile(r"^\+?[0-9]{1,32}$")


def _digits(value: str) -> str:
    return re.sub(r"[\s\-()]", "", value or "")


class RateSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Number, prefix, area or country"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )

    def clean_q(self) -> str:
        value = (self.cleaned_data.get("q") or "").strip()
        digits = _digits(value)
        if digits and NUMBER.match(digits):
            return digits.lstrip("+")
        if any(ord(c) < 32 for c in value):
            raise forms.ValidationError(_("Enter a number, a prefix, an area or a country."))
        return value


class TalkTimeForm(forms.Form):
    number = forms.CharField(
        label=_("Number to call"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("With the country code, e.g. 447700900123."),
    )
    phone = forms.ChoiceField(label=_("Calling from"), required=False)

    def __init__(self, *args, phones: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].choices = [(p, p) for p in phones]
        if len(phones) <= 1:
            self.fields["phone"].widget = forms.HiddenInput()

    def clean_number(self) -> str:
        digits = _digits(self.cleaned_data.get("number") or "")
        if not NUMBER.match(digits):
            raise forms.ValidationError(_("Enter digits only (with an optional leading +)."))
        return digits.lstrip("+")
