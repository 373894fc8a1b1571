"""Forms of the CMDB pages. They parse and check input; the writes are ``cmdb.services``."""

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from itsm.forms import TypeAheadField, UploadField

from .models import CI, CIClass, Relationship


class PrettyJSONField(forms.JSONField):
    """A JSON object in a textarea, shown indented."""

    def prepare_value(self, value):
        if isinstance(value, str):
            return value
        return json.dumps(value if value is not None else {}, indent=2, ensure_ascii=False)


class CIForm(forms.ModelForm):
    attributes = PrettyJSONField(
        label=_("Attributes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "font-monospace", "spellcheck": "false"}),
        help_text=_("A JSON object; the class's schema lists the attributes it accepts."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = CI
        fields = [
            "name",
            "ci_class",
            "status",
            "environment",
            "criticality",
            "owner",
            "support_group",
            "supplier",
            "description",
            "attributes",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        )
        self.fields["support_group"].queryset = Team.objects.order_by("name")
        self.fields["ci_class"].queryset = CIClass.objects.order_by("label")
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()

    def full_clean(self):
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        """Bootstrap's ``is-invalid`` on the widgets of fields with errors."""
        for name in self.errors:
            if name in self.fields and "is-invalid" not in self.fields[name].widget.attrs["class"]:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def _post_clean(self):
        """Model validation is the service's (it also checks the attribute schema)."""

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError(_("Attributes must be a JSON object."))
        return value

    def clean(self):
        data = super().clean()
        ci_class = data.get("ci_class")
        if ci_class is not None and "attributes" in data:
            for key, messages in ci_class.attribute_errors(data["attributes"]).items():
                self.add_attribute_errors(key, messages)
        return data

    def add_attribute_errors(self, key: str, messages) -> None:
        name = key.removeprefix("attributes").lstrip(".")
        for message in messages:
            self.add_error("attributes", f"{name}: {message}" if name else message)

    def values(self) -> dict:
        """The CI fields to write (everything but the form's bookkeeping)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}

    def apply_errors(self, exc: ValidationError) -> None:
        """Show a service's ``ValidationError`` on the form's fields."""
        for key, messages in exc.message_dict.items():
            if key.startswith("attributes"):
                self.add_attribute_errors(key, messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)
        self.mark_invalid()


class RelationshipForm(forms.Form):
    """Relate the page's CI to another one, in either direction."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"
    DIRECTIONS = [
        (OUTGOING, _("This CI depends on…")),
        (INCOMING, _("…depends on this CI")),
    ]

    direction = forms.ChoiceField(label=_("Direction"), choices=DIRECTIONS)
    type = forms.ChoiceField(label=_("Type"), choices=Relationship.Type.choices)
    other = forms.CharField(
        label=_("Other CI"),
        max_length=300,
        help_text=_("Start typing a name and pick a CI from the list."),
    )

    def __init__(self, *args, ci: CI, **kwargs):
        self.ci = ci
        super().__init__(*args, **kwargs)
        self.fields["direction"].widget.attrs["class"] = "form-select"
        self.fields["type"].widget.attrs["class"] = "form-select"
        self.fields["other"].widget.attrs.update(
            {"class": "form-control", "list": "ci-options", "autocomplete": "off"}
        )

    def clean_other(self) -> CI:
        other = find_ci(self.cleaned_data["other"])
        if other is None:
            raise ValidationError(_("Pick a CI from the list (several CIs may share a name)."))
        return other

    def endpoints(self) -> tuple[CI, CI]:
        other = self.cleaned_data["other"]
        if self.cleaned_data["direction"] == self.OUTGOING:
            return self.ci, other
        return other, self.ci


class ImportForm(forms.Form):
    file = UploadField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check and report, write nothing"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    partial = forms.BooleanField(
        label=_("Write the correct lines even if other lines have errors"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def ci_label(ci: CI) -> str:
    """How a CI reads in a type-ahead box: ``name · class · #id`` (the id settles homonyms)."""
    return f"{ci.name} · {ci.ci_class.label} · #{ci.pk}"


def find_ci(value: str) -> CI | None:
    """The CI a type-ahead value names: by its ``#id`` suffix, else by a unique exact name."""
    value = (value or "").strip()
    match = re.search(r"#(\d+)\s*$", value)
    if match:
        return CI.objects.filter(pk=int(match.group(1))).first()
    matches = list(CI.objects.filter(name__iexact=value)[:2])
    return matches[0] if len(matches) == 1 else None


class CIPickerField(TypeAheadField):
    """A CI chosen by typing (``cmdb:ci_lookup`` fills the ``<datalist>``): pages that pick a
    CI stay fast with a hundred thousand of them."""

    not_found = _("Pick a CI from the list (several CIs may share a name).")

    def __init__(self, *, lookup_url: str, datalist: str = "ci-options", **kwargs):
        super().__init__(lookup_url=lookup_url, datalist=datalist, **kwargs)

    def candidates(self):
        return CI.objects.select_related("ci_class")

    def label_of(self, ci: CI) -> str:
        return ci_label(ci)

    def find_exact(self, text: str) -> CI | None:
        return find_ci(text)


class ServicePickerField(CIPickerField):
    """A business service chosen by typing: an estate has hundreds of them, and a ``<select>``
    of all of them was most of a ticket page's cost (its rows and its options)."""

    not_found = _("Pick a business service from the list.")

    def __init__(self, *, lookup_url: str, datalist: str = "service-options", **kwargs):
        super().__init__(lookup_url=lookup_url, datalist=datalist, **kwargs)

    def candidates(self):
        return CI.objects.services().select_related("ci_class")

    def find_exact(self, text: str) -> CI | None:
        matches = list(self.candidates().filter(name__iexact=text)[:2])
        return matches[0] if len(matches) == 1 else None
