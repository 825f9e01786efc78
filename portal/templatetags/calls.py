"""Call records in templates: labels (`hangup_side`, `end_reason`: telephony.labels), the
callee's country and saved name, and the rows of a call table (`call_rows`)."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.services.phonebook import number_key
from telephony import labels
from telephony.countries import number_country
from telephony.money import EMPTY, money_formatter

from .money import duration

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


# --- The rows of a call table ---------------------------------------------------------------
# A page shows 50 calls with eight formatted cells each. Rendered by a template loop that is
# about 1,400 template nodes a page, most of the page's time; built here it is one escape per
# value. The markup is the one telephony/_calls_table.html documents.


class _RowWriter:
    """Writes the rows of one page: labels translated and formats looked up once."""

    def __init__(self, names) -> None:
        words = {
            "start": _("Start"),
            "caller": _("Caller"),
            "callee": _("Callee"),
            "duration": _("Duration"),
            "billed": _("Billed"),
            "cost": _("Cost"),
            "hangup": _("Hung up by"),
            "unanswered": _("Not answered"),
        }
        self.words = {key: escape(str(text)) for key, text in words.items()}
        self.names = names
        self.language = get_language() or "en"
        self.money = money_formatter()
        self.sides: dict = {}
        self.reasons: dict = {}

    def side_and_reason(self, call) -> tuple[str, str]:
        side, reason = call.end_direction, call.end_reason
        if side not in self.sides:
            self.sides[side] = escape(labels.hangup_side(side))
        if reason not in self.reasons:
            self.reasons[reason] = escape(labels.end_reason(reason))
        return self.sides[side], self.reasons[reason]

    def callee(self, number: str) -> str:
        cell = escape(number or EMPTY)
        saved = phonebook_name(number, self.names)
        if saved:
            cell += f' <span class="small saved-name">{escape(saved)}</span>'
        place = number_country(number or "", self.language)
        if place:
            cell += f' <span class="muted small country">{escape(place)}</span>'
        return cell

    def row(self, call) -> str:
        words = self.words
        start = template_localtime(call.start)
        if call.hold_time:
            held = duration(call.hold_time)
        else:
            held = f'<span class="badge">{words["unanswered"]}</span>'
        side, reason = self.side_and_reason(call)
        return (
            "<tr>"
            f'<td class="nowrap cell-main" data-label="{words["start"]}">'
            f'<time datetime="{start.isoformat()}">{start:%Y-%m-%d %H:%M:%S}</time></td>'
            f'<td class="number" data-label="{words["caller"]}">'
            f"{escape(call.caller_e164 or EMPTY)}</td>"
            f'<td class="number" data-label="{words["callee"]}">'
            f"<span>{self.callee(call.callee_e164)}</span></td>"
            f'<td class="num" data-label="{words["duration"]}">{held}</td>'
            f'<td class="num" data-label="{words["billed"]}">{duration(call.fee_time)}</td>'
            f'<td class="num" data-label="{words["cost"]}">{escape(self.money(call.fee))}</td>'
            f'<td data-label="{words["hangup"]}"><span>{side} '
            f'<span class="reason">· {reason}</span></span></td>'
            "</tr>"
        )


@register.simple_tag
def call_rows(calls, names=None) -> str:
    """``{% call_rows calls phonebook_names %}``: the table rows of ``calls`` (telephony.Cdr,
    with the columns telephony.selectors.calls_page reads), times in the active time zone,
    the callee's saved name from ``names`` (accounts.services.phonebook_names) and country.
    Every value is escaped here (html.escape, as Django's escape does)."""
    writer = _RowWriter(names)
    return mark_safe("\n".join(writer.row(call) for call in calls))  # noqa: S308
