"""Call-record labels for templates (`hangup_side`, `end_reason`): telephony.labels."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from accounts.services.phonebook import number_key
from telephony import labels
from telephony.countries import number_country

register = template.Library()
register.filter("hangup_side", labels.hangup_side)
register.filter("end_reason", labels.end_reason)


@register.filter("country")
def country(number: str) -> str:
    """The country of a dialled number, in the active language ("" when unknown)."""
    return number_country(number or "", get_language() or "en")


@register.filter("phonebook_name")
def phonebook_name(number: str, names) -> str:
    """The name the customer saved for ``number`` in their phone book ("" when none)."""
    if not names or not number:
        return ""
    return names.get(number_key(number), "")
