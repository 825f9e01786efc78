"""What the switch's codes mean to a person: hang-up sides and Q.850 release causes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

HANGUP_SIDES = {0: _("Caller"), 1: _("Callee"), 2: _("Server")}

# VOS reports the Q.850 cause of the release; these are the ones customers meet.
END_REASONS = {
    1: _("Number does not exist"),
    3: _("No route"),
    16: _("Normal"),
    17: _("Busy"),
    18: _("No response"),
    19: _("No answer"),
    21: _("Rejected"),
    27: _("Destination out of order"),
    28: _("Invalid number"),
    31: _("Normal"),
    34: _("No line available"),
    38: _("Network out of order"),
    41: _("Temporary failure"),
    42: _("Switch congested"),
    47: _("Resource unavailable"),
    102: _("Timed out"),
    127: _("Network error"),
}


def hangup_side(value) -> str:
    return str(HANGUP_SIDES.get(value, value))


def end_reason(value) -> str:
    label = END_REASONS.get(value)
    return f"{label} ({value})" if label else str(value)
