from __future__ import annotations

import re
from datetime import date

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import ANSWERED, CONTAINS, PREFIX, UNANSWERED
from .vos import PhoneBookEntry

MAX_CALL_RANGE_DAYS = 92

e164_validator = RegexValidator(
    r"^(?=.{3,32}$)\+?[0-9]+$",
    _("Enter 3 to 32 digits, optionally starting with +."),
)
SHORT_NUMBER = re.compile(r"^[0-9]{1,16}$")
SHORT_NUMBER_SPLIT = re.compile(r"[\s,;]+")
SEARCH_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CallFilterForm(forms.Form):
    """The calls page's filter; a blank date range means today (in the user's time zone)."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    q = forms.CharField(
        label=_("Number"),
        required=False,
        max_length=33,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("Caller or callee"),
    )
    match = forms.ChoiceField(
        label=_("Match"),
        required=False,
        choices=[(PREFIX, _("Starts with")), (CONTAINS, _("Contains"))],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All calls")), (ANSWERED, _("Answered")), (UNANSWERED, _("Unanswered"))],
    )

    def clean_q(self) -> str:
        value = re.sub(r"[\s\-()]", "", self.cleaned_data.get("q") or "")
        if value and not SEARCH_NUMBER.match(value):
            raise forms.ValidationError(_("Enter digits only (with an optional leading +)."))
        return value

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        if start is None and end is None:
            start = end = today
        elif start is None:
            start = end
        elif end is None:
            end = max(start, today)
        if end < start:
            self.add_error("end", _("The end date is before the start date."))
        elif (end - start).days + 1 > MAX_CALL_RANGE_DAYS:
            self.add_error(
                "end",
                _("Choose at most %(days)d days.") % {"days": MAX_CALL_RANGE_DAYS},
            )
        data["start"], data["end"] = start, end
        data["match"] = data.get("match") or PREFIX
        return data

    def filters(self) -> dict:
        """Keyword arguments for telephony.selectors.calls_for (dates still to be bounded)."""
        data = self.cleaned_data
        return {"search": data["q"], "match": data["match"], "outcome": data["outcome"]}


def split_short_numbers(value: str) -> list[str]:
    return [part for part in SHORT_NUMBER_SPLIT.split(value or "") if part]


class PhoneBookEntryForm(forms.Form):
    e164 = forms.CharField(
        label=_("Number"),
        max_length=32,
        validators=[e164_validator],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("Digits, optionally starting with +."),
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    short_numbers = forms.CharField(
        label=_("Short numbers"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Optional; separate several with commas."),
    )
    department = forms.CharField(label=_("Department"), max_length=64, required=False)
    memo = forms.CharField(label=_("Note"), max_length=255, required=False)

    def clean_e164(self) -> str:
        return (self.cleaned_data.get("e164") or "").strip()

    def clean_short_numbers(self) -> tuple[str, ...]:
        numbers = split_short_numbers(self.cleaned_data.get("short_numbers") or "")
        bad = [n for n in numbers if not SHORT_NUMBER.match(n)]
        if bad:
            raise forms.ValidationError(
                _("Short numbers are 1 to 16 digits: %(bad)s") % {"bad": ", ".join(bad)}
            )
        if len(set(numbers)) != len(numbers):
            raise forms.ValidationError(_("A short number is listed twice."))
        return tuple(numbers)

    def entry(self) -> PhoneBookEntry:
        data = self.cleaned_data
        return PhoneBookEntry(
            e164=data["e164"],
            name=data["name"],
            short_e164s=data["short_numbers"],
            department=data["department"],
            memo=data["memo"],
        )

    @classmethod
    def initial_for(cls, entry: PhoneBookEntry) -> dict:
        return {
            "e164": entry.e164,
            "name": entry.name,
            "short_numbers": ", ".join(entry.short_e164s),
            "department": entry.department,
            "memo": entry.memo,
        }


MAX_IMPORT_BYTES = 1024 * 1024


class PhoneBookImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: e164, name, short_numbers, department, memo. UTF-8 or GB18030."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    overwrite = forms.BooleanField(
        label=_("Update numbers already in the phone book"),
        required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload
