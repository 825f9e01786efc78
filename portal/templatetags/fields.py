"""``{% field form.x %}``: one form field with its label, input, errors and help.

The markup every form of the portal uses (the CSS in static/css/portal.css styles it):

    <div class="form-field[ has-error]">
      <label for="ID">Label[ <span class="muted small">(optional)</span>]</label>
      INPUT
      [<ul class="field-error" id="ID_error"><li>error</li>...</ul>]
      [<div class="help" id="ID_helptext">help</div>]
    </div>

a checkbox sits inside its label (``<label class="checkbox" for="ID">INPUT Label</label>``).
``quiet=True`` leaves out "(optional)" (filter forms, where every field is). Written in
Python rather than as an included template: a page's form costs one call per field instead
of a dozen template nodes (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def field(bound, quiet: bool = False) -> str:
    errors = bound.errors
    for_id = conditional_escape(bound.id_for_label)
    label = conditional_escape(bound.label)
    out = [f'<div class="form-field{" has-error" if errors else ""}">']
    if bound.widget_type == "checkbox":
        out.append(f'<label class="checkbox" for="{for_id}">{bound} {label}</label>')
    else:
        optional = ""
        if not bound.field.required and not quiet:
            optional = f' <span class="muted small">({conditional_escape(_("optional"))})</span>'
        out.append(f'<label for="{for_id}">{label}{optional}</label>')
        out.append(str(bound))
    auto_id = conditional_escape(bound.auto_id)
    if errors:
        items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
        out.append(f'<ul class="field-error" id="{auto_id}_error">{items}</ul>')
    if bound.help_text:
        # Help texts are the portal's own strings, some with markup (as |safe did).
        out.append(f'<div class="help" id="{auto_id}_helptext">{bound.help_text}</div>')
    out.append("</div>")
    return mark_safe("\n".join(out))  # noqa: S308 - every value is escaped above
