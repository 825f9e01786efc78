"""The customer's online top-up form: a preset or a typed amount."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from telephony.money import format_money

AMOUNT_PATTERN = r"[0-9]{1,9}([.,][0-9]{1,2})?"


class OnlineTopupForm(forms.Form):
    preset = forms.ChoiceField(label=_("Amount"), required=False, widget=forms.RadioSelect)
    amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        max_length=13,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "pattern": AMOUNT_PATTERN}
        ),
    )

    def __init__(self, *args, presets: tuple[Decimal, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(str(p), format_money(p)) for p in presets]

    def clean(self):
        data = super().clean()
        typed = (data.get("amount") or "").strip().replace(",", ".")
        if typed:
            try:
                value = Decimal(typed)
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite() or value.as_tuple().exponent < -2:
                self.add_error("amount", _("Enter an amount such as 25 or 25.50."))
                return data
            data["value"] = value
        elif data.get("preset"):
            data["value"] = Decimal(data["preset"])
        else:
            self.add_error("amount", _("Choose or enter an amount."))
        return data
