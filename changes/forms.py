"""Forms of the change pages. They parse input; the rules are the verbs' (``changes.services``)."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.forms import PersonPickerField
from accounts.models import Team
from cmdb.forms import ci_label, find_ci
from cmdb.models import CI
from itsm.forms import Select, TypeAheadField, load_choices
from itsm.permissions import ASSIGNABLE_ROLES, users_with_role

from . import risk
from .models import Blackout, Change, ChangeTemplate
from .workflow import Outcome, Policy

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
CI_LOOKUP = reverse_lazy("cmdb:ci_lookup")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs={"class": "form-control", **(attrs or {})}, format=DATETIME_FORMAT)


def datetime_field(label, **kwargs):
    return forms.DateTimeField(
        label=label,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        **kwargs,
    )


class CIsWidget(forms.Widget):
    """The CIs picked so far as checked boxes (untick to remove) and one type-ahead box to add
    another (``cmdb:ci_lookup`` fills its ``<datalist>``; ``changes.js`` turns a pick into a
    box at once, and without scripts the form adds it when posted)."""

    def __init__(self, *, lookup_url, attrs=None):
        super().__init__(attrs)
        self.lookup_url = lookup_url

    def value_from_datadict(self, data, files, name):
        return {"ids": data.getlist(name), "add": data.get(f"{name}_add", "")}

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_add" not in data

    def render(self, name, value, attrs=None, renderer=None):
        chosen = value or []
        boxes = format_html_join(
            "",
            '<div class="form-check"><input class="form-check-input" type="checkbox" '
            'name="{}" value="{}" id="{}-{}" checked><label class="form-check-label" '
            'for="{}-{}">{}</label></div>',
            ((name, ci.pk, name, ci.pk, name, ci.pk, ci_label(ci)) for ci in chosen),
        )
        box_id = (attrs or {}).get("id", f"id_{name}")
        return format_html(
            '<div class="ci-picker" data-name="{}"><div class="ci-picked">{}</div>'
            '<input type="text" class="form-control" id="{}" name="{}_add" list="{}-options" '
            'autocomplete="off" placeholder="{}" hx-get="{}" hx-trigger="input changed '
            'delay:250ms" hx-target="#{}-options" hx-vals=\'js:{{"ci": event.target.value}}\'>'
            '<datalist id="{}-options"></datalist></div>',
            name,
            boxes,
            box_id,
            name,
            name,
            _("Type a CI name to add it"),
            str(self.lookup_url),
            name,
            name,
        )


class CIsField(forms.Field):
    widget = CIsWidget

    def __init__(self, *, lookup_url, **kwargs):
        kwargs.setdefault("widget", CIsWidget(lookup_url=lookup_url))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):  # a posted form shown again
            try:
                return self.to_python(value)
            except ValidationError:
                return []
        if value is None:
            return []
        items = list(value)
        if items and not isinstance(items[0], CI):
            items = list(CI.objects.select_related("ci_class").filter(pk__in=items))
        return items

    def to_python(self, value):
        if not value:
            return []
        ids = [int(v) for v in value.get("ids", []) if str(v).isdigit()]
        found = {ci.pk: ci for ci in CI.objects.select_related("ci_class").filter(pk__in=ids)}
        cis = [found[i] for i in dict.fromkeys(ids) if i in found]
        added = (value.get("add") or "").strip()
        if added:
            ci = find_ci(added)
            if ci is None:
                raise ValidationError(_("Pick a CI from the list (several CIs may share a name)."))
            if ci.pk not in found:
                cis.append(ci)
        return cis

    def has_changed(self, initial, data) -> bool:
        before = {getattr(ci, "pk", ci) for ci in initial or []}
        try:
            after = {ci.pk for ci in self.to_python(data)}
        except ValidationError:
            return True
        return before != after


class ChangePickerField(TypeAheadField):
    """A change picked by typing its number or title (``changes:change_lookup``)."""

    not_found = _("Pick a change from the list.")

    def __init__(self, *, lookup_url, datalist: str = "change-options", **kwargs):
        super().__init__(lookup_url=lookup_url, datalist=datalist, **kwargs)

    def candidates(self):
        return Change.objects.all()

    def label_of(self, change) -> str:
        return change_label(change)

    def find_exact(self, text: str):
        number = text.split(" ", 1)[0].upper()
        return Change.objects.filter(number=number).first()


def change_label(change) -> str:
    return f"{change.number} {change.title} · #{change.pk}"


def _style(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.HiddenInput):
            continue
        if isinstance(widget, CIsWidget):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class ChangeForm(forms.ModelForm):
    """A change's plan; on the change page only the fields its state lets the user edit."""

    cis = CIsField(label=_("Affected CIs"), required=False, lookup_url=CI_LOOKUP)
    planned_start = datetime_field(_("Planned start"), required=False)
    planned_end = datetime_field(_("Planned end"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Change
        fields = [
            "type",
            "template",
            "title",
            "description",
            "cab",
            "approval_policy",
            "assignment_group",
            "assignee",
            "planned_start",
            "planned_end",
            "cis",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "outcome",
            "review_notes",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "implementation_plan": forms.Textarea(attrs={"rows": 4}),
            "backout_plan": forms.Textarea(attrs={"rows": 3}),
            "test_plan": forms.Textarea(attrs={"rows": 3}),
            "review_notes": forms.Textarea(attrs={"rows": 3}),
            "type": forms.RadioSelect,
            **dict.fromkeys(
                ["template", "cab", "approval_policy", "assignment_group", "assignee", "outcome"],
                Select,
            ),
        }

    def __init__(self, *args, editable=None, **kwargs):
        super().__init__(*args, **kwargs)
        if editable is not None:
            for name in list(self.fields):
                if name not in editable and name != "version":
                    del self.fields[name]
        fields = self.fields
        if "template" in fields:
            fields["template"].queryset = ChangeTemplate.objects.filter(active=True)
            fields["template"].required = False
        if "cab" in fields:
            fields["cab"].queryset = Team.objects.filter(board__isnull=False).order_by("name")
            fields["cab"].help_text = _("The board that authorizes a normal change.")
        if "assignment_group" in fields:
            fields["assignment_group"].queryset = Team.objects.order_by("name")
        if "assignee" in fields:
            fields["assignee"].queryset = users_with_role(*ASSIGNABLE_ROLES).order_by(
                "first_name", "last_name"
            )
        load_choices(
            *(
                fields[name]
                for name in ("template", "cab", "assignment_group", "assignee")
                if name in fields
            )
        )
        if "approval_policy" in fields:
            fields["approval_policy"].required = False
            if not self.instance.pk:  # a new change follows its CAB unless told otherwise
                self.initial.setdefault("approval_policy", "")
            fields["approval_policy"].choices = [
                ("", _("The CAB's own policy")),
                *Policy.choices,
            ]
        if "type" in fields:
            fields["type"].required = False
        if "outcome" in fields:
            fields["outcome"].choices = [("", "—"), *Outcome.choices]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            if "cis" in fields:
                fields["cis"].initial = list(self.instance.cis.select_related("ci_class"))
        _style(self)

    def _post_clean(self):
        """Model validation is the verb's (it knows the state and the type)."""

    def values(self, *, changed_only: bool) -> dict:
        names = self.changed_data if changed_only else list(self.cleaned_data)
        data = {n: self.cleaned_data[n] for n in names if n in self.cleaned_data}
        data.pop("version", None)
        if not data.get("type") and "type" in data:
            data.pop("type")
        if "approval_policy" in data and not data["approval_policy"]:
            data.pop("approval_policy")
        return data


class RiskForm(forms.Form):
    """The risk questionnaire: one radio group per question, all optional."""

    def __init__(self, *args, answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        answers = answers or {}
        for question in risk.QUESTIONS:
            self.fields[f"risk_{question.key}"] = forms.ChoiceField(
                label=question.text,
                choices=question.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=answers.get(question.key),
            )

    def answers(self) -> dict:
        return {
            question.key: self.cleaned_data[f"risk_{question.key}"]
            for question in risk.QUESTIONS
            if self.cleaned_data.get(f"risk_{question.key}")
        }


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    review_notes = forms.CharField(
        label=_("Review notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class VoteForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000
    )
    internal = forms.BooleanField(label=_("Internal note"), required=False)


class TemplateForm(forms.ModelForm):
    cis = CIsField(label=_("Configuration items"), required=False, lookup_url=CI_LOOKUP)

    class Meta:
        model = ChangeTemplate
        fields = [
            "name",
            "description",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "duration_minutes",
            "assignment_group",
            "cis",
            "active",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("description", "implementation_plan", "backout_plan", "test_plan")
        } | {"assignment_group": Select}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment_group"].queryset = Team.objects.order_by("name")
        load_choices(self.fields["assignment_group"])
        if self.instance.pk:
            self.fields["cis"].initial = list(self.instance.cis.select_related("ci_class"))
        _style(self)

    def _post_clean(self):
        """Model validation is the verb's."""


class BlackoutForm(forms.ModelForm):
    start = datetime_field(_("Start"))
    end = datetime_field(_("End"))
    cis = CIsField(
        label=_("Configuration items"),
        required=False,
        lookup_url=CI_LOOKUP,
        help_text=_("None: a global freeze. Changes on these CIs or on what they depend on."),
    )

    class Meta:
        model = Blackout
        fields = ["name", "description", "start", "end", "cis"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["cis"].initial = list(self.instance.cis.select_related("ci_class"))
        _style(self)

    def _post_clean(self):
        """Model validation is the verb's."""


class BoardForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), widget=Select)
    policy = forms.ChoiceField(
        label=_("Approval policy"), choices=Policy.choices, widget=Select, initial=Policy.ALL
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(board__isnull=True).order_by("name")
        load_choices(self.fields["team"])
        _style(self)


class PolicyForm(forms.Form):
    policy = forms.ChoiceField(label=_("Approval policy"), choices=Policy.choices, widget=Select)


class MemberForm(forms.Form):
    member = PersonPickerField(
        label=_("Add a member"), help_text=_("Type part of a name, username or email, then pick.")
    )
