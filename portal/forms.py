"""The self-service forms: plain words for people who are not IT staff."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cmdb.models import CI
from incidents.workflow import Level
from itsm.forms import AttachmentsField

# Urgency in the words of the person who has the problem (SPEC §3: 1 high … 3 low).
URGENCY_CHOICES = [
    (Level.HIGH.value, _("It stops my work completely")),
    (Level.MEDIUM.value, _("It slows me down")),
    (Level.LOW.value, _("It's a minor inconvenience")),
]
URGENCY_LABELS = dict(URGENCY_CHOICES)
MARKDOWN_HINT = _("You can use Markdown: **bold**, *italic*, `code`, lists with - or 1.")


class PortalForm(forms.Form):
    """Bootstrap classes and ARIA wiring on every widget: the help text and the errors are
    announced with the field (``aria-describedby``), an invalid field says so."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):
                widget.attrs.setdefault("class", "visually-hidden-radio")
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self._field_id(name)}_help"

    def _field_id(self, name: str) -> str:
        """The id Django gives the field's widget (without building the bound field, which
        would freeze its help text)."""
        return self.auto_id % self.add_prefix(name) if self.auto_id else self.add_prefix(name)

    def full_clean(self):
        super().full_clean()
        first = True
        for name in self.fields:
            if name not in self.errors:
                continue
            attrs = self.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            if first:  # keyboard and screen reader users land on what needs fixing
                attrs["autofocus"] = True
                first = False
            if "visually-hidden-radio" not in attrs.get("class", ""):
                attrs["class"] = attrs.get("class", "") + " is-invalid"
            described = attrs.get("aria-describedby", "").split()
            attrs["aria-describedby"] = " ".join([f"{self._field_id(name)}_errors", *described])


def attachment_help() -> str:
    limit = filesizeformat(settings.ATTACHMENT_MAX_BYTES)
    return _("Screenshots or documents, up to %(limit)s each.") % {"limit": limit}


class ReportForm(PortalForm):
    title = forms.CharField(
        label=_("What is the problem?"),
        max_length=200,
        error_messages={"required": _("Tell us in a few words what the problem is.")},
        help_text=_("One line, e.g. “I cannot print on the 3rd floor printer”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Tell us more"),
        max_length=50_000,
        error_messages={"required": _("Describe what happens: it helps us fix it faster.")},
        help_text=MARKDOWN_HINT,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": _(
                    "What were you doing? What did you expect, and what happened instead? "
                    "Copy any error message."
                ),
            }
        ),
    )
    urgency = forms.TypedChoiceField(
        label=_("How much does it affect your work?"),
        choices=URGENCY_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how much it affects your work.")},
    )
    service = forms.ModelChoiceField(
        label=_("Which service is affected?"),
        queryset=CI.objects.none(),
        required=False,
        empty_label=_("I don't know / not listed"),
        help_text=_("Pick it if you know it: it helps us send your issue to the right team."),
    )
    attachments = AttachmentsField(label=_("Attachments"), help_text=" ")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = CI.objects.services().active().order_by("name")
        self.fields["attachments"].help_text = attachment_help()
        # As the title is typed, known issues that match it appear beside the form.
        self.fields["title"].widget.attrs.update(
            {
                "hx-get": reverse("portal:report_suggestions"),
                "hx-trigger": "input changed delay:300ms, load",
                "hx-target": "#report-suggestions",
                "hx-sync": "this:replace",
                "aria-controls": "report-suggestions",
            }
        )


class CommentForm(PortalForm):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=50_000,
        error_messages={"required": _("Write your reply first.")},
        help_text=MARKDOWN_HINT,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write a reply…")}),
    )


class AttachForm(PortalForm):
    attachments = AttachmentsField(
        label=_("Add files"),
        required=True,
        help_text=" ",
        error_messages={"required": _("Choose at least one file.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()


class ReopenForm(PortalForm):
    reason = forms.CharField(
        label=_("What is still not working?"),
        max_length=50_000,
        error_messages={"required": _("Tell us what is still not working.")},
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your answer goes to the team as a reply on this ticket."),
    )


class RatingForm(PortalForm):
    score = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose from 1 to 5 stars.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to add?"),
        max_length=5_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
