from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.widgets import DateInput, Select, TextInput
from telephony.selectors import ANSWERED, CONTAINS, PREFIX, UNANSWERED

MAX_STATEMENT_DAYS = 366
MAX_CALL_RANGE_DAYS = 92
SEARCH_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class CallFilterForm(forms.Form):
    """The calls page's filter; a blank date range means today (in the user's time zone)."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    q = forms.CharField(
        label=_("Number"),
        required=False,
        max_length=33,
        widget=TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("Caller or callee"),
    )
    match = forms.ChoiceField(
        label=_("Match"),
        required=False,
        choices=[(PREFIX, _("Starts with")), (CONTAINS, _("Contains"))],
        widget=Select(),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("All calls")), (ANSWERED, _("Answered")), (UNANSWERED, _("Unanswered"))],
        widget=Select(),
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


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


class MonthInput(forms.TextInput):
    input_type = "month"


class StatementForm(forms.Form):
    """A calendar month, or a date range (which wins when both dates are given)."""

    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=MonthInput(attrs={"placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}"}),
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean_month(self) -> date | None:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."))
        return date(int(match.group(1)), int(match.group(2)), 1)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        start, end, month = data.get("start"), data.get("end"), data.get("month")
        if start or end:
            start = start or end
            end = end or timezone.localdate()
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
                return data
            if (end - start).days + 1 > MAX_STATEMENT_DAYS:
                self.add_error(
                    "end", _("Choose at most %(days)d days.") % {"days": MAX_STATEMENT_DAYS}
                )
                return data
        else:
            start, end = month_bounds(month or timezone.localdate())
        data["first"], data["last"] = start, end
        return data
