from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telephony.forms import DateInput

MAX_STATEMENT_DAYS = 366
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


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
