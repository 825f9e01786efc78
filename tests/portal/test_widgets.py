"""The Python-rendered widgets (accounts.widgets) write what Django's widget templates write."""

from __future__ import annotations

import pytest
from django import forms

from accounts import widgets

CHOICES = [("", "All <calls>"), ("1", "One & two"), ("G", [("x", 'Ex "1"'), ("y", "Why")])]


class DjangoForm(forms.Form):
    text = forms.CharField(
        required=False,
        max_length=33,
        help_text="Caller or callee",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    pick = forms.ChoiceField(required=False, choices=CHOICES)
    flag = forms.ChoiceField(choices=CHOICES, widget=forms.Select(attrs={"disabled": True}))


class PythonForm(forms.Form):
    text = forms.CharField(
        required=False,
        max_length=33,
        help_text="Caller or callee",
        widget=widgets.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    day = forms.DateField(widget=widgets.DateInput())
    pick = forms.ChoiceField(required=False, choices=CHOICES, widget=widgets.Select())
    flag = forms.ChoiceField(choices=CHOICES, widget=widgets.Select(attrs={"disabled": True}))


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"text": '86"<139>&', "day": "2026-02-03", "pick": "x", "flag": "1"},
        {"text": "x" * 40, "day": "not a day", "pick": "nope"},
    ],
)
def test_python_widgets_write_the_html_of_djangos_templates(data):
    ours, django = PythonForm(data), DjangoForm(data)
    if data is not None:
        ours.is_valid(), django.is_valid()
    for name in DjangoForm.base_fields:
        assert str(ours[name]) == str(django[name]), name


class FieldForm(forms.Form):
    name = forms.CharField(label="Name <b>", help_text="At most <em>20</em> letters.")
    note = forms.CharField(label="Note", required=False)
    agree = forms.BooleanField(label="I agree", required=False)


def _field(form, name: str, quiet: bool = False) -> str:
    from django.template import Context, Template

    source = "{% load fields %}{% field f." + name + (" quiet=True" if quiet else "") + " %}"
    return Template(source).render(Context({"f": form}))


def test_a_field_carries_its_label_input_help_and_errors_next_to_it():
    form = FieldForm({"name": "", "note": "x"})
    assert not form.is_valid()
    html = _field(form, "name")
    assert html.startswith('<div class="form-field has-error">')
    assert '<label for="id_name">Name &lt;b&gt;</label>' in html
    assert (
        'aria-invalid="true"' in html
        and 'aria-describedby="id_name_helptext id_name_error"' in html
    )
    assert (
        '<ul class="field-error" id="id_name_error"><li>This field is required.</li></ul>' in html
    )
    assert '<div class="help" id="id_name_helptext">At most <em>20</em> letters.</div>' in html


def test_an_optional_field_says_so_unless_quiet_and_a_checkbox_sits_in_its_label():
    form = FieldForm()
    assert '<label for="id_note">Note <span class="muted small">(optional)</span></label>' in (
        _field(form, "note")
    )
    assert "optional" not in _field(form, "note", quiet=True)
    html = _field(form, "agree")
    assert html.startswith('<div class="form-field">\n<label class="checkbox" for="id_agree">')
    assert '<input type="checkbox" name="agree" id="id_agree"> I agree</label>' in html


def test_call_rows_escape_whatever_the_switch_sent():
    """A misbehaving switch's numbers and a saved name with markup come out as text."""
    from collections import namedtuple
    from datetime import UTC, datetime
    from decimal import Decimal

    from django.template import Context, Template

    Row = namedtuple(
        "Row", "id start caller_e164 callee_e164 hold_time fee_time fee end_direction end_reason"
    )
    call = Row(
        1,
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        '<img src=x onerror="alert(1)">',
        "8613912345678",
        0,
        0,
        Decimal("0.1"),
        1,
        17,
    )
    html = Template("{% load calls %}{% call_rows calls names %}").render(
        Context({"calls": [call], "names": {"8613912345678": "<b>Boss</b> & co"}})
    )
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert '<span class="small saved-name">&lt;b&gt;Boss&lt;/b&gt; &amp; co</span>' in html
    assert '<time datetime="2026-12-01T08:30:00+00:00">2026-12-01 08:30:00</time>' in html
    assert '<span class="badge">Not answered</span>' in html
