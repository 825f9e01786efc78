"""Form widgets that write their HTML in Python instead of through Django's widget templates.

A widget template is two or three template renders (input, attrs, each option): about a
tenth of a millisecond per field, which adds up on a page that shows a filter form on every
view (the calls page). These write exactly what Django's own templates write
(tests/portal/test_widgets.py compares them), from the same widget context, so attributes
Django adds (id, required, aria-describedby, aria-invalid) are the same.
"""

from __future__ import annotations

from html import escape

from django import forms
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {name}" if value is True else f' {name}="{escape(str(value))}"')
    return "".join(parts)


class _PythonRendered:
    def _render(self, template_name, context, renderer=None):
        return mark_safe(self.html(context["widget"]))  # noqa: S308 - every value is escaped


class TextInput(_PythonRendered, forms.TextInput):
    def html(self, widget: dict) -> str:
        """django/forms/widgets/input.html."""
        value = "" if widget["value"] is None else f' value="{escape(str(widget["value"]))}"'
        name = escape(widget["name"])
        return f'<input type="{widget["type"]}" name="{name}"{value}{_attrs(widget["attrs"])}>'


class DateInput(_PythonRendered, forms.DateInput):
    """An ``<input type="date">`` with ISO values (what browsers' date pickers send)."""

    input_type = "date"
    html = TextInput.html

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class Select(_PythonRendered, forms.Select):
    def html(self, widget: dict) -> str:
        """django/forms/widgets/select.html and select_option.html."""
        out = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{escape(str(group_name))}">')
            for option in options:
                out.append(
                    f'\n  <option value="{escape(str(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{escape(str(option['label']))}</option>\n"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return "".join(out)
