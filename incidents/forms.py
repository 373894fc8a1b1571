from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonPickerField
from accounts.models import Team, User
from changes.forms import ChangePickerField
from cmdb.forms import CIPickerField, ServicePickerField
from itsm.forms import WIDGET_RENDERER, AttachmentsField, Select, load_choices
from itsm.permissions import ASSIGNABLE_ROLES, users_with_role

from .models import Incident
from .workflow import HoldReason, ResolutionCode, State


class IncidentForm(forms.ModelForm):
    """The fields an agent edits on the desk (state moves have their own forms)."""

    default_renderer = WIDGET_RENDERER
    version = forms.IntegerField(widget=forms.HiddenInput)
    service = ServicePickerField(
        label=_("Service"),
        required=False,
        lookup_url=reverse_lazy("cmdb:ci_lookup"),
        help_text=_("Type a service's name and pick it."),
    )
    ci = CIPickerField(
        label=_("Configuration item"),
        required=False,
        lookup_url=reverse_lazy("cmdb:ci_lookup"),
        help_text=_("Type a name and pick the CI."),
    )
    caused_by_change = ChangePickerField(
        label=_("Caused by change"),
        required=False,
        lookup_url=reverse_lazy("changes:change_lookup"),
        datalist="caused-change-options",
        help_text=_("Type a change number or title and pick it."),
    )

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "impact",
            "urgency",
            "assignment_group",
            "assignee",
            "service",
            "ci",
            "major",
            "caused_by_change",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            **dict.fromkeys(["impact", "urgency", "assignment_group", "assignee"], Select),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users_with_role(*ASSIGNABLE_ROLES).order_by(
            "first_name", "last_name"
        )
        self.fields["assignment_group"].queryset = Team.objects.order_by("name")
        load_choices(*(self.fields[name] for name in ("assignee", "assignment_group")))
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            css = (
                "form-check-input"
                if isinstance(field.widget, forms.CheckboxInput)
                else ("form-select" if isinstance(field.widget, forms.Select) else "form-control")
            )
            field.widget.attrs.setdefault("class", css)

    def changed_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "version"}


class NewIncidentForm(IncidentForm):
    """An agent logs an incident for someone (a phone call, a walk-in)."""

    requester = PersonPickerField(
        label=_("Requester"),
        required=False,
        help_text=_("Type part of a name, username or email, then pick."),
    )
    # A caller who is not in the directory yet: the desk adds them (accounts.services).
    caller_first_name = forms.CharField(label=_("First name"), required=False, max_length=150)
    caller_last_name = forms.CharField(label=_("Last name"), required=False, max_length=150)
    caller_email = forms.EmailField(label=_("Email"), required=False)
    caller_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    version = None
    CALLER_FIELDS = ("caller_first_name", "caller_last_name", "caller_email", "caller_phone")

    class Meta(IncidentForm.Meta):
        fields = ["requester", *IncidentForm.Meta.fields]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The caller first (picked, or added), then the incident.
        order = ["requester", *self.CALLER_FIELDS]
        self.order_fields(order + [name for name in self.fields if name not in order])

    def clean(self):
        data = super().clean()
        new_caller = any(data.get(name) for name in self.CALLER_FIELDS)
        if not data.get("requester") and not new_caller and "requester" not in self.errors:
            self.add_error(
                "requester", _("Pick the caller, or add them under “Not in the directory?”.")
            )
        return data

    def incident_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in IncidentForm.Meta.fields}

    def new_caller(self) -> dict:
        """What the desk knows of a caller to add, as ``register_caller`` takes it."""
        return {
            name.removeprefix("caller_"): self.cleaned_data[name] for name in self.CALLER_FIELDS
        }


class HoldForm(forms.Form):
    hold_reason = forms.ChoiceField(label=_("Reason"), choices=HoldReason.choices)
    awaited_change = ChangePickerField(
        label=_("The change it waits for"),
        required=False,
        lookup_url=reverse_lazy("changes:change_lookup"),
        datalist="awaited-change-options",
    )
    note = forms.CharField(
        label=_("Note to the requester"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        if data.get("hold_reason") == HoldReason.AWAITING_CHANGE and not data.get("awaited_change"):
            self.add_error("awaited_change", _("Name the change the incident waits for."))
        return data


class ResolveForm(forms.Form):
    # A blank first option: the agent chooses the code, nothing is picked for them.
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"), choices=[("", _("Choose…")), *ResolutionCode.choices]
    )
    resolution_notes = forms.CharField(
        label=_("Resolution notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester reads these notes."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=State.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    internal = forms.BooleanField(label=_("Internal note (agents only)"), required=False)
    files = AttachmentsField(label=_("Files"), required=False)


class AttachForm(forms.Form):
    file = AttachmentsField(label=_("File"), required=True)
    internal = forms.BooleanField(label=_("Internal (agents only)"), required=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign", _("Assign")),
        ("take", _("Assign to me")),
        ("state", _("Change state")),
    ]
    numbers = forms.CharField(widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=ACTIONS)
    # The verb refuses whoever may not be assigned (one rule); the form only parses ids.
    assignee = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    assignment_group = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    state = forms.ChoiceField(choices=[("", "—"), *State.choices], required=False)
    hold_reason = forms.ChoiceField(choices=[("", "—"), *HoldReason.choices], required=False)
    resolution_code = forms.ChoiceField(
        choices=[("", "—"), *ResolutionCode.choices], required=False
    )
    resolution_notes = forms.CharField(required=False)

    def clean_numbers(self) -> list[str]:
        entries = [n.strip() for n in self.cleaned_data["numbers"].split(",") if n.strip()]
        if not entries:
            raise forms.ValidationError(_("Select at least one incident."))
        if len(entries) > 200:
            raise forms.ValidationError(_("At most 200 incidents at a time."))
        # "INC0000042:7": the version the list showed (another desk's change since is a 409)
        self.versions: dict[str, int | None] = {}
        for entry in entries:
            number, _sep, version = entry.partition(":")
            if version and not version.isdigit():
                raise forms.ValidationError(_("Select at least one incident."))
            self.versions[number] = int(version) if version else None
        return list(self.versions)

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not (data.get("assignee") or data.get("assignment_group")):
            self.add_error("assignee", _("Choose a person or a team."))
        if action == "state" and not data.get("state"):
            self.add_error("state", _("Choose the new state."))
        return data
