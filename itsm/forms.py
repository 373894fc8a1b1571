"""Form helpers shared by the apps' pages."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from .attachments import UploadRefused, UploadTooLarge, check_upload


def load_choices(*fields: forms.ModelChoiceField) -> None:
    """Read each model choice field's options with one plain query, once.

    Left alone, a ``ModelChoiceField`` runs its queryset every time its options are iterated
    (through a server-side cursor on PostgreSQL) and counts it too, on each page that renders
    the form. Validation still goes through the field's queryset, so a value outside it is
    refused as before.
    """
    for field in fields:
        options = [(item.pk, field.label_from_instance(item)) for item in field.queryset]
        if field.empty_label is not None:
            options.insert(0, ("", field.empty_label))
        field.choices = options


def _attributes(attrs: dict) -> str:
    """Django's ``attrs.html`` in Python: ``False`` leaves the attribute out, ``True`` writes
    it bare."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    )


class Select(forms.Select):
    """A ``<select>`` whose options are written in Python instead of through two template
    includes each: the same HTML as Django's widget, several times cheaper on the long lists
    of a ticket page (agents, teams, services)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"]), ">"]
        for group, options, _index in widget["optgroups"]:
            if group:
                html.append(format_html('<optgroup label="{}">', group))
            for option in options:
                html.append(
                    format_html(
                        '<option value="{}"{}>{}</option>',
                        str(option["value"]),
                        mark_safe(_attributes(option["attrs"])),  # noqa: S308 - escaped above
                        option["label"],
                    )
                )
            if group:
                html.append("</optgroup>")
        html.append("</select>")
        return mark_safe("".join(html))  # noqa: S308 - every part went through format_html


def _input_html(widget: dict) -> str:
    """Django's ``input.html`` and ``attrs.html``, in Python (same characters, same escaping:
    text is escaped, what is marked safe is not)."""
    html = [
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"'
    ]
    if widget["value"] is not None:
        html.append(f' value="{conditional_escape(widget["value"])}"')
    html.append(_attributes_html(widget["attrs"]))
    html.append(">")
    return "".join(html)


def _textarea_html(widget: dict) -> str:
    """Django's ``textarea.html`` in Python."""
    name = conditional_escape(widget["name"])
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{name}"{_attributes_html(widget["attrs"])}>\n{value}</textarea>'


def _attributes_html(attrs: dict) -> str:
    return "".join(
        f" {conditional_escape(name)}"
        + ("" if value is True else f'="{conditional_escape(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


# Django's widget templates that only include ``input.html``.
_INPUTS = [
    "checkbox",
    "date",
    "datetime",
    "email",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
]


class WidgetRenderer(DjangoTemplates):
    """Django's form renderer, writing the plain widgets (inputs and text areas) in Python.

    Each widget rendered through its template costs two template renders (``text.html``
    includes ``input.html`` which includes ``attrs.html``): the seven fields of a ticket's
    details form were a tenth of its page's time. The HTML is the same character for
    character (tested); every other template goes through Django's renderer.
    """

    WRITERS = {
        **{f"django/forms/widgets/{name}.html": _input_html for name in _INPUTS},
        "django/forms/widgets/textarea.html": _textarea_html,
    }

    def render(self, template_name, context, request=None):
        write = self.WRITERS.get(template_name)
        if write is None:
            return super().render(template_name, context, request)
        return write(context["widget"])


# One renderer for every form that uses it: a renderer builds its template engine once.
WIDGET_RENDERER = WidgetRenderer()


class TypeAheadField(forms.CharField):
    """An object picked by typing, not from a ``<select>`` of all of them: an htmx lookup fills
    a ``<datalist>`` with labels ending in ``#<id>``, and the field reads the object back from
    that id (or from a text that names exactly one), so the page costs the same with a hundred
    thousand candidates as with ten.

    Subclasses say how an object reads (``label_of``), how a text without an id finds one
    (``find_exact``) and where candidates come from (``candidates``, also the limit of what may
    be picked).
    """

    not_found = _("Pick one from the list.")

    def __init__(self, *, lookup_url: str, datalist: str, **kwargs):
        kwargs.setdefault("max_length", 300)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "class": "form-control",
                "list": datalist,
                "autocomplete": "off",
                "hx-get": lookup_url,
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#{datalist}",
            }
        )

    def candidates(self):
        raise NotImplementedError

    def label_of(self, obj) -> str:
        raise NotImplementedError

    def find_exact(self, text: str):
        raise NotImplementedError

    def find(self, text: str):
        """The object ``text`` names: by its ``#id`` suffix, else by ``find_exact``."""
        text = (text or "").strip()
        match = re.search(r"#(\d+)\s*$", text)
        if match:
            return self.candidates().filter(pk=int(match.group(1))).first()
        return self.find_exact(text) if text else None

    def prepare_value(self, value):
        if isinstance(value, int):
            value = self.candidates().filter(pk=value).first() or value
        model = self.candidates().model
        return self.label_of(value) if isinstance(value, model) else value

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        found = self.find(text)
        if found is None:
            raise ValidationError(self.not_found)
        return found

    def has_changed(self, initial, data) -> bool:
        initial_pk = getattr(initial, "pk", initial)
        found = self.find(data) if data else None
        return (found.pk if found else None) != initial_pk


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked against the attachment rules (size, empty file).

    Cleans to a list of uploads; an error names the field and the file it is about, and a file
    over the size limit makes the page answer 413 (``form_status``).
    """

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if self.required and not uploads:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        errors = []
        for upload in uploads:
            try:
                check_upload(upload)
            except (UploadTooLarge, UploadRefused) as exc:
                errors.append(upload_error(exc, label=self.label, name=upload.name))
        if errors:
            raise forms.ValidationError(errors)
        return uploads


class UploadField(forms.FileField):
    """One file, checked against the same upload rules as attachments (``check_upload``: at
    most ``ATTACHMENT_MAX_BYTES``); a file over the limit is an error naming the field, the
    file and the limit, and makes the page answer 413 (``form_status``)."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            try:
                check_upload(upload)
            except (UploadTooLarge, UploadRefused) as exc:
                raise upload_error(exc, label=self.label, name=upload.name) from exc
        return upload


def upload_error(exc, *, label, name: str = "") -> forms.ValidationError:
    """An upload refused by the attachment rules (``itsm.attachments.check_upload``, through a
    form field or a verb) as the error of the form field ``label``."""
    if isinstance(exc, UploadTooLarge):
        return forms.ValidationError(exc.for_field(label), code=UploadTooLarge.code)
    return forms.ValidationError(
        _("%(name)s: %(reason)s"),
        code="upload",
        params={"name": name or label, "reason": str(exc)},
    )


def add_upload_error(form: forms.Form, field: str, exc) -> None:
    """A verb's refusal of an upload, on the form's file field (its code kept for
    ``form_status``)."""
    form.add_error(
        field, upload_error(exc, label=form.fields[field].label, name=getattr(exc, "name", ""))
    )


def too_large(*forms_) -> bool:
    """Whether one of the forms was refused for a file over the size limit."""
    return any(
        error.code == UploadTooLarge.code
        for form in forms_
        if form is not None and form.is_bound
        for errors in form.errors.as_data().values()
        for error in errors
    )


def form_status(*forms_, default: int = 200) -> int:
    """The status of a page that shows its forms again: 413 when a file was over the size
    limit (as the API answers), ``default`` otherwise."""
    return UploadTooLarge.status_code if too_large(*forms_) else default


def mark_form_errors(response):
    """An htmx answer that carries a form with its errors at an error status: ``itsm.js``
    swaps it in all the same (htmx leaves 4xx answers out by default)."""
    if response.status_code >= 400:
        response["X-Form-Errors"] = "1"
    return response
