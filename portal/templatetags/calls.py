"""Call-record labels for templates (`hangup_side`, `end_reason`): telephony.labels."""

from __future__ import annotations

from django import template

from telephony import labels

register = template.Library()
register.filter("hangup_side", labels.hangup_side)
register.filter("end_reason", labels.end_reason)
