"""The order form of an item, built from its form definition, in the reader's language.

The browser checks what it can before sending (``required``, lengths, number limits, dates:
``static/js/catalog.js`` shows the messages below); ``catalog.services.order`` checks
everything again and its per-field messages land on the same fields. The widgets carry the
raw text: the verb is the one rule.
"""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import PersonPickerField
from accounts.models import User
from portal.forms import MARKDOWN_HINT, PortalForm

from ..formdef import (
    BOOLEAN,
    CHOICE,
    DATE,
    MAX_LENGTH,
    NUMBER,
    TEXTAREA,
    choice_label,
    field_text,
)
from ..permissions import can_work

PREFIX = "answer__"


def _messages(field: dict) -> dict:
    """The messages the browser shows, the same words as the server's."""
    messages = {"data-msg-required": _("This field is required.")}
    if field["type"] == BOOLEAN:
        messages["data-msg-required"] = _("Tick this box to go on.")
    if field["type"] == NUMBER:
        messages["data-msg-type"] = _("Enter a number.")
        if field.get("min") is not None:
            messages["data-msg-min"] = _("Enter a number of at least %(n)s.") % {
                "n": _plain(field["min"])
            }
        if field.get("max") is not None:
            messages["data-msg-max"] = _("Enter a number of at most %(n)s.") % {
                "n": _plain(field["max"])
            }
    if field["type"] == DATE:
        messages["data-msg-type"] = _("Enter a date as YYYY-MM-DD.")
    if field["type"] in MAX_LENGTH:
        messages["data-msg-length"] = _("Enter at most %(n)d characters.") % {
            "n": MAX_LENGTH[field["type"]]
        }
    return messages


def _plain(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def answer_field(field: dict) -> forms.Field:
    kind = field["type"]
    attrs = _messages(field)
    if field["required"]:
        attrs["required"] = True
    label = field_text(field, "label")
    help_text = field_text(field, "help_text")
    if kind == BOOLEAN:
        return forms.BooleanField(
            label=label, help_text=help_text, required=False, widget=forms.CheckboxInput(attrs)
        )
    if kind == CHOICE:
        options = [("", _("Choose…"))] + [
            (choice["value"], choice_label(field, choice["value"])) for choice in field["choices"]
        ]
        return forms.ChoiceField(
            label=label,
            help_text=help_text,
            required=False,
            choices=options,
            widget=forms.Select(attrs),
        )
    if kind == NUMBER:
        attrs["step"] = "any"
        if field.get("min") is not None:
            attrs["min"] = _plain(field["min"])
        if field.get("max") is not None:
            attrs["max"] = _plain(field["max"])
        widget = forms.NumberInput(attrs)
    elif kind == DATE:
        widget = forms.DateInput(attrs | {"type": "date"})
    elif kind == TEXTAREA:
        widget = forms.Textarea(attrs | {"rows": 4, "maxlength": MAX_LENGTH[TEXTAREA]})
    else:
        widget = forms.TextInput(attrs | {"maxlength": MAX_LENGTH["text"]})
    return forms.CharField(
        label=label, help_text=help_text, required=False, strip=False, widget=widget
    )


class OrderForm(PortalForm):
    """Who it is for (when the reader may order for others), the answers, and a note."""

    description = forms.CharField(
        label=gettext_lazy("Anything else we should know?"),
        required=False,
        max_length=50_000,
        help_text=MARKDOWN_HINT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, item, user, **kwargs):
        self.item = item
        self.definition = item.form
        super().__init__(*args, **kwargs)
        fields = {}
        if can_work(user):
            fields["requested_for"] = PersonPickerField(
                label=_("Who is it for?"),
                required=False,
                help_text=_("Empty: for you. Type part of a name, then pick."),
            )
        else:
            reports = list(User.objects.filter(manager=user, is_active=True).order_by("first_name"))
            if reports:
                fields["requested_for"] = forms.ModelChoiceField(
                    label=_("Who is it for?"),
                    queryset=User.objects.filter(Q(pk=user.pk) | Q(manager=user, is_active=True)),
                    required=False,
                    empty_label=_("Me"),
                )
        for field in self.definition:
            fields[PREFIX + field["name"]] = answer_field(field)
        fields["description"] = self.fields.pop("description")
        self.fields = {**fields, **self.fields}
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self._field_id(name)}_help"

    def answer_fields(self):
        """``(bound field, definition)`` for each question, in the form's order."""
        return [(self[PREFIX + field["name"]], field) for field in self.definition]

    def answers(self) -> dict:
        """The raw answers for the verb: text as typed, a tick box as true or false."""
        answers = {}
        for field in self.definition:
            name = PREFIX + field["name"]
            if field["type"] == BOOLEAN:
                answers[field["name"]] = self.cleaned_data.get(name, False)
            else:
                answers[field["name"]] = self.cleaned_data.get(name, "")
        return answers

    def add_answer_errors(self, errors: dict) -> None:
        for name, messages in errors.items():
            target = PREFIX + name
            self.add_error(target if target in self.fields else None, messages)
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        """Re-run the ARIA wiring of ``PortalForm`` once the verb's errors are on the form."""
        first = True
        for name in self.fields:
            if name not in self.errors:
                continue
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            if first:
                attrs["autofocus"] = True
                first = False
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = attrs.get("class", "") + " is-invalid"
            described = [
                part
                for part in attrs.get("aria-describedby", "").split()
                if not part.endswith("_errors")
            ]
            attrs["aria-describedby"] = " ".join([f"{self._field_id(name)}_errors", *described])
