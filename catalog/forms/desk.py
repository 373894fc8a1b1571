"""The desk's forms for requests, approvals and tasks. They parse; the verbs decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from itsm.forms import Select, load_choices
from itsm.permissions import ASSIGNABLE_ROLES, users_with_role

from ..workflow import Decision, TaskState


def _css(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif not isinstance(widget, forms.HiddenInput | forms.RadioSelect):
            widget.attrs.setdefault("class", "form-control form-control-sm")


class AssignForm(forms.Form):
    """Who works a request (its coordinator) or a task."""

    assignment_group = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, widget=Select
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=Team.objects.none(), required=False, widget=Select
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "assignment_group": instance.assignment_group_id,
                "assignee": instance.assignee_id,
                "version": instance.version,
            }
        self.instance = instance
        super().__init__(*args, **kwargs)
        self.fields["assignment_group"].queryset = Team.objects.order_by("name")
        self.fields["assignee"].queryset = users_with_role(*ASSIGNABLE_ROLES).order_by(
            "first_name", "last_name"
        )
        load_choices(self.fields["assignment_group"], self.fields["assignee"])
        _css(self)

    def changed_values(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("assignment_group", "assignee")
            if name in self.changed_data
        }


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to reject: the requester reads it."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _css(self)


class StateForm(forms.Form):
    state = forms.CharField()
    reason = forms.CharField(required=False, max_length=5_000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    internal = forms.BooleanField(label=_("Internal note (agents only)"), required=False)


class NewTaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    description = forms.CharField(
        label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignment_group = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("The request's team"),
        widget=Select,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment_group"].queryset = Team.objects.order_by("name")
        load_choices(self.fields["assignment_group"])
        _css(self)


class TaskStateForm(forms.Form):
    state = forms.ChoiceField(choices=TaskState.choices)
    note = forms.CharField(required=False, max_length=50_000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
