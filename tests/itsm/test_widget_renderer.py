"""The widgets ``itsm.forms.WidgetRenderer`` writes in Python are Django's, character for
character, whatever the value (text to escape, markup marked safe, none, a checkbox)."""

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from itsm.forms import WIDGET_RENDERER, WidgetRenderer

VALUES = [None, "", "plain", "quote \" <b>&amp;</b> '", mark_safe("<i>safe</i>"), 0, 42]
WIDGETS = [
    forms.TextInput(attrs={"class": "form-control", "list": "ci-options", "required": True}),
    forms.TextInput(attrs={"hx-get": "/x/?a=1&b=<2>", "autofocus": True, "disabled": False}),
    forms.HiddenInput,
    forms.NumberInput(attrs={"min": 1}),
    forms.EmailInput,
    forms.PasswordInput(render_value=True),
    forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
    forms.CheckboxInput(attrs={"class": "form-check-input"}),
    forms.DateInput,
]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_python_widget_is_the_template_widget(widget, value):
    widget = widget() if isinstance(widget, type) else widget
    attrs = {"id": "id_field"}
    django = widget.render("field", value, attrs=attrs, renderer=DjangoTemplates())
    python = widget.render("field", value, attrs=attrs, renderer=WIDGET_RENDERER)
    assert python == django


def test_a_checked_checkbox_is_the_template_checkbox():
    widget = forms.CheckboxInput()
    django = widget.render("major", True, renderer=DjangoTemplates())
    assert widget.render("major", True, renderer=WIDGET_RENDERER) == django
    assert " checked" in django


def test_other_templates_go_through_django(monkeypatch):
    """A ``<select>`` (or any widget it does not write) is rendered by its template."""
    widget = forms.Select(choices=[("1", "One <1>"), ("2", "Two")])
    django = widget.render("impact", "2", renderer=DjangoTemplates())
    assert widget.render("impact", "2", renderer=WidgetRenderer()) == django
    assert "django/forms/widgets/select.html" not in WidgetRenderer.WRITERS


def test_the_ticket_form_renders_its_fields_as_django_would(db):
    from incidents.forms import IncidentForm
    from itsm.testing import make_incident

    incident = make_incident(title='Printer "B2" <jammed>', description="Line 1\n<b>two</b>")
    ours = IncidentForm(instance=incident)
    theirs = IncidentForm(instance=incident, renderer=DjangoTemplates())
    assert ours.renderer is WIDGET_RENDERER
    assert [str(field) for field in ours] == [str(field) for field in theirs]
