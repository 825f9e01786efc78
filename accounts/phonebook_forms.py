"""Forms of the phone-book pages; the rules themselves are accounts.services.phonebook's."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from telephony.vos import PhoneBookEntry

from .services.phonebook import (
    E164_MAX,
    MAX_IMPORT_BYTES,
    PhoneBookInvalid,
    phonebook_entry_clean,
)


class PhoneBookEntryForm(forms.Form):
    e164 = forms.CharField(
        label=_("Number"),
        max_length=E164_MAX,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_(
            "Digits, optionally starting with +; spaces, dashes, dots and brackets are removed."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    short_numbers = forms.CharField(
        label=_("Short numbers"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Optional; separate several with commas or spaces."),
    )
    department = forms.CharField(label=_("Department"), max_length=64, required=False)
    memo = forms.CharField(label=_("Note"), max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self._entry = phonebook_entry_clean(data)
        except PhoneBookInvalid as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return data

    def entry(self) -> PhoneBookEntry:
        return self._entry

    @classmethod
    def initial_for(cls, entry: PhoneBookEntry) -> dict:
        return {
            "e164": entry.e164,
            "name": entry.name,
            "short_numbers": ", ".join(entry.short_e164s),
            "department": entry.department,
            "memo": entry.memo,
        }


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
