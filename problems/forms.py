from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from cmdb.forms import CIPickerField
from cmdb.models import CI
from incidents.workflow import ResolutionCode
from itsm.forms import Select, load_choices
from itsm.permissions import users_with_role

from .candidates import KINDS
from .models import Problem
from .permissions import ASSIGNEE_ROLES


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


class NewProblemForm(forms.ModelForm):
    """What a problem manager writes to open a problem."""

    class Meta:
        model = Problem
        fields = ["title", "description", "priority", "assignment_group", "assignee", "services"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "priority": Select,
            "assignment_group": Select,
            "assignee": Select,
            "services": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users_with_role(*ASSIGNEE_ROLES).order_by(
            "first_name", "last_name"
        )
        self.fields["assignment_group"].queryset = Team.objects.order_by("name")
        self.fields["services"].queryset = CI.objects.services().order_by("name")
        load_choices(self.fields["assignee"], self.fields["assignment_group"])
        _style(self)


class ProblemForm(NewProblemForm):
    """The fields a problem manager edits on the problem page; CIs are added one at a time
    by typing (a CMDB has thousands) and removed by unticking them."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    ci = CIPickerField(
        label=_("Add a configuration item"),
        required=False,
        lookup_url=reverse_lazy("cmdb:ci_lookup"),
        help_text=_("Type a name and pick the CI."),
    )
    keep_cis = forms.ModelMultipleChoiceField(
        label=_("Affected CIs"),
        queryset=CI.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(NewProblemForm.Meta):
        fields = [
            *NewProblemForm.Meta.fields,
            "root_cause",
            "workaround",
            "known_error",
            "publish_workaround",
        ]
        widgets = {
            **NewProblemForm.Meta.widgets,
            "root_cause": forms.Textarea(attrs={"rows": 4}),
            "workaround": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.cis.all() if self.instance.pk else CI.objects.none()
        self.fields["keep_cis"].queryset = current
        self.fields["keep_cis"].initial = [ci.pk for ci in current]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        _style(self)

    def changed_values(self) -> dict:
        values = {
            name: self.cleaned_data[name]
            for name in self.changed_data
            if name not in ("version", "ci", "keep_cis")
        }
        if "services" in values:
            values["services"] = list(values["services"])
        if "ci" in self.changed_data or "keep_cis" in self.changed_data:
            cis = list(self.cleaned_data["keep_cis"])
            added = self.cleaned_data.get("ci")
            if added is not None and added not in cis:
                cis.append(added)
            values["cis"] = cis
        return values


class ResolveForm(forms.Form):
    root_cause = forms.CharField(
        label=_("Root cause"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    resolve_incidents = forms.BooleanField(
        label=_("Resolve the linked open incidents with it"), required=False
    )
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"),
        choices=[("", _("Choose…")), *ResolutionCode.choices],
        required=False,
    )
    resolution_notes = forms.CharField(
        label=_("Resolution notes"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Each incident's requester reads these notes."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def incidents(self):
        """``(code, notes)`` when the linked incidents are to be resolved, else ``None``."""
        data = self.cleaned_data
        if not data.get("resolve_incidents"):
            return None
        return data["resolution_code"], data["resolution_notes"]


class LinkForm(forms.Form):
    incident = forms.CharField(label=_("Incident number"), max_length=16)

    def clean_incident(self) -> str:
        return self.cleaned_data["incident"].strip().upper()


class CandidateForm(forms.Form):
    """ "Create a problem from these": the group, its window, and the new problem's title."""

    kind = forms.ChoiceField(choices=list(KINDS.items()), widget=forms.HiddenInput)
    key = forms.IntegerField(widget=forms.HiddenInput)
    days = forms.IntegerField(min_value=1, max_value=366, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Problem title"), max_length=200)
