"""The catalog editor's forms: categories, items and the form builder (no JSON to write).

The builder is a formset: one card per field of the item's form (label, type, required, help
text, options, limits, and each text in the site's other languages), reordered and removed in
place; another formset lists the fulfilment tasks. ``definition()`` turns the cards into the
form definition ``catalog.services.save_item`` checks and saves.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from cmdb.models import CI
from itsm.forms import load_choices

from ..formdef import FIELD_TYPES, NUMBER, name_from_label, other_languages
from ..models import CatalogItem, Category
from ..workflow import ApprovalMode

TEXTS = ("name", "summary", "description")


def _css(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.RadioSelect | forms.HiddenInput):
            continue
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


class TranslatedForm(forms.Form):
    """Adds ``<text>_<language>`` fields for each text in ``TEXTS`` and each other language,
    read from and written to the object's ``translations``."""

    texts: tuple[str, ...] = TEXTS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, language in other_languages():
            for text in self.texts:
                base = self.fields[text]
                widget = (
                    forms.Textarea(attrs={"rows": 3})
                    if isinstance(base.widget, forms.Textarea)
                    else forms.TextInput()
                )
                self.fields[f"{text}_{code}"] = forms.CharField(
                    label=f"{base.label} ({language})",
                    required=False,
                    max_length=base.max_length,
                    widget=widget,
                )
        _css(self)

    def translation_fields(self):
        return [self[f"{text}_{code}"] for code, _name in other_languages() for text in self.texts]

    @classmethod
    def translated_initial(cls, obj) -> dict:
        initial = {}
        for code, _name in other_languages():
            texts = (obj.translations or {}).get(code, {})
            for text in cls.texts:
                initial[f"{text}_{code}"] = texts.get(text, "")
        return initial

    def translations(self) -> dict:
        return {
            code: {text: self.cleaned_data.get(f"{text}_{code}", "") for text in self.texts}
            for code, _name in other_languages()
        }


class CategoryForm(TranslatedForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.SlugField(
        label=_("Short name in links"),
        max_length=60,
        required=False,
        help_text=_("Empty: made from the name."),
    )
    summary = forms.CharField(label=_("Summary"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    icon = forms.CharField(
        label=_("Icon"),
        max_length=40,
        initial="grid",
        help_text=_("A Bootstrap icon name, e.g. laptop, key, person-plus."),
    )
    order = forms.IntegerField(label=_("Order"), initial=100)
    active = forms.BooleanField(label=_("Shown in the portal"), required=False, initial=True)

    @classmethod
    def initial_from(cls, category: Category) -> dict:
        fields = ("name", "slug", "summary", "description", "icon", "order", "active")
        return {
            **{name: getattr(category, name) for name in fields},
            **cls.translated_initial(category),
        }

    def values(self) -> dict:
        data = self.cleaned_data
        fields = ("name", "slug", "summary", "description", "icon", "order", "active")
        return {**{name: data[name] for name in fields}, "translations": self.translations()}


class ItemForm(TranslatedForm):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.SlugField(
        label=_("Short name in links"),
        max_length=60,
        required=False,
        help_text=_("Empty: made from the name."),
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=200,
        required=False,
        help_text=_("One line on the catalog's cards."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown above the form. Markdown is supported."),
    )
    icon = forms.CharField(
        label=_("Icon"),
        max_length=40,
        initial="box-seam",
        help_text=_("A Bootstrap icon name, e.g. laptop, key, person-plus."),
    )
    order = forms.IntegerField(label=_("Order"), initial=100)
    approval = forms.ChoiceField(
        label=_("Approval"),
        choices=ApprovalMode.choices,
        widget=forms.RadioSelect,
        initial=ApprovalMode.NONE,
    )
    approval_team = forms.ModelChoiceField(
        label=_("Approval team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_(
            "Team mode: any member approves. Manager mode: asked when the person has no manager."
        ),
    )
    fulfillment_team = forms.ModelChoiceField(
        label=_("Fulfilment team"), queryset=Team.objects.none()
    )
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=CI.objects.none(),
        required=False,
        empty_label=_("None"),
    )
    sla_policy = forms.ModelChoiceField(
        label=_("SLA policy"),
        queryset=CI.objects.none(),
        required=False,
        empty_label=_("The first request policy that matches"),
    )
    active = forms.BooleanField(label=_("Can be ordered"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.order_by("order", "name")
        teams = Team.objects.order_by("name")
        self.fields["approval_team"].queryset = teams
        self.fields["fulfillment_team"].queryset = teams
        self.fields["service"].queryset = CI.objects.services().order_by("name")
        policy_model = CatalogItem._meta.get_field("sla_policy").remote_field.model
        self.fields["sla_policy"].queryset = policy_model.objects.filter(
            applies_to="request"
        ).order_by("order", "name")
        load_choices(
            *(
                self.fields[name]
                for name in ("category", "approval_team", "fulfillment_team", "service")
            ),
            self.fields["sla_policy"],
        )

    @classmethod
    def initial_from(cls, item: CatalogItem) -> dict:
        fields = ("name", "slug", "summary", "description", "icon", "order", "approval", "active")
        return {
            **{name: getattr(item, name) for name in fields},
            "category": item.category_id,
            "approval_team": item.approval_team_id,
            "fulfillment_team": item.fulfillment_team_id,
            "service": item.service_id,
            "sla_policy": item.sla_policy_id,
            "version": item.version,
            **cls.translated_initial(item),
        }

    def values(self) -> dict:
        data = self.cleaned_data
        fields = (
            *("category", "name", "slug", "summary", "description", "icon", "order"),
            *("approval", "approval_team", "fulfillment_team", "service", "sla_policy", "active"),
        )
        return {**{name: data[name] for name in fields}, "translations": self.translations()}


# --- The form builder ----------------------------------------------------------------------------


class FieldForm(forms.Form):
    """One question of an item's form."""

    label = forms.CharField(label=_("Question"), max_length=200)
    type = forms.ChoiceField(label=_("Answer type"), choices=list(FIELD_TYPES.items()))
    required = forms.BooleanField(label=_("Required"), required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=500, required=False)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Choice fields: one option per line; its translation after a | sign."),
    )
    min = forms.FloatField(label=_("Minimum"), required=False)
    max = forms.FloatField(label=_("Maximum"), required=False)
    name = forms.CharField(
        label=_("Field name (API)"),
        max_length=50,
        required=False,
        help_text=_("Filled in from the question; keep it once requests use it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, language in other_languages():
            self.fields[f"label_{code}"] = forms.CharField(
                label=_("Question (%(language)s)") % {"language": language},
                max_length=200,
                required=False,
            )
            self.fields[f"help_text_{code}"] = forms.CharField(
                label=_("Help text (%(language)s)") % {"language": language},
                max_length=500,
                required=False,
            )
        _css(self)

    def clean(self):
        data = super().clean()
        if data.get("type") == NUMBER:
            low, high = data.get("min"), data.get("max")
            if low is not None and high is not None and low > high:
                self.add_error("max", _("The maximum is below the minimum."))
        return data

    def translation_fields(self):
        return [
            self[f"{key}_{code}"]
            for code, _name in other_languages()
            for key in ("label", "help_text")
        ]

    @staticmethod
    def initial_from(field: dict) -> dict:
        languages = [code for code, _name in other_languages()]
        lines = []
        for choice in field.get("choices") or ():
            parts = [choice["label"]] + [
                (choice.get("translations") or {}).get(code, "") for code in languages
            ]
            while len(parts) > 1 and not parts[-1]:
                parts.pop()
            lines.append(" | ".join(parts))
        initial = {
            "label": field.get("label", ""),
            "name": field.get("name", ""),
            "type": field.get("type"),
            "required": field.get("required", False),
            "help_text": field.get("help_text", ""),
            "choices": "\n".join(lines),
            "min": field.get("min"),
            "max": field.get("max"),
        }
        for code in languages:
            texts = (field.get("translations") or {}).get(code, {})
            initial[f"label_{code}"] = texts.get("label", "")
            initial[f"help_text_{code}"] = texts.get("help_text", "")
        return initial


FieldFormSet = forms.formset_factory(
    FieldForm, extra=0, can_order=True, can_delete=True, max_num=50, absolute_max=50
)


class TaskTemplateForm(forms.Form):
    """One fulfilment task created when a request is approved."""

    title = forms.CharField(label=_("Task"), max_length=200)
    description = forms.CharField(
        label=_("Instructions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("The fulfilment team"),
    )

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        if teams is not None:  # the formset reads the teams once for all its cards
            self.fields["team"].choices = teams
        _css(self)


TaskFormSet = forms.formset_factory(
    TaskTemplateForm, extra=0, can_order=True, can_delete=True, max_num=30, absolute_max=30
)


def team_choices() -> list:
    return [
        ("", _("The fulfilment team")),
        *Team.objects.order_by("name").values_list("pk", "name"),
    ]


def _ordered(formset) -> list:
    """The kept cards in their order (new ones without an order last)."""
    kept = [form for form in formset.forms if form.has_changed() or form.initial]
    kept = [form for form in kept if not formset._should_delete_form(form)]
    return sorted(
        kept,
        key=lambda form: (
            form.cleaned_data.get("ORDER") is None,
            form.cleaned_data.get("ORDER") or 0,
        ),
    )


def definition(formset, previous: list[dict]) -> list[dict]:
    """The form definition the cards describe. An option keeps the value it had (its label
    in the default language names it), so renaming a translation breaks no answer."""
    languages = [code for code, _name in other_languages()]
    old_values = {
        (field["name"], choice["label"]): choice["value"]
        for field in previous
        for choice in field.get("choices") or ()
    }
    fields, taken = [], set()
    cards = _ordered(formset)
    for form in cards:
        data = form.cleaned_data
        if data.get("name"):
            taken.add(data["name"])
    for form in cards:
        data = form.cleaned_data
        name = data.get("name") or name_from_label(data["label"], taken)
        taken.add(name)
        choices = []
        for line in (data.get("choices") or "").splitlines():
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                continue
            value = old_values.get((name, parts[0])) or name_from_label(
                parts[0], {c["value"] for c in choices}
            )
            translations = {
                code: parts[index + 1]
                for index, code in enumerate(languages)
                if index + 1 < len(parts) and parts[index + 1]
            }
            choices.append({"value": value, "label": parts[0], "translations": translations})
        field = {
            "name": name,
            "label": data["label"],
            "type": data["type"],
            "required": bool(data.get("required")),
            "help_text": data.get("help_text") or "",
            "choices": choices if data["type"] == "choice" else [],
            "min": data.get("min") if data["type"] == NUMBER else None,
            "max": data.get("max") if data["type"] == NUMBER else None,
            "translations": {
                code: {
                    "label": data.get(f"label_{code}", ""),
                    "help_text": data.get(f"help_text_{code}", ""),
                }
                for code in languages
            },
        }
        if data["type"] != "choice" and data.get("choices", "").strip():
            field["choices"] = choices  # refused by the service, naming the field
        fields.append(field)
    return fields


def task_definition(formset) -> list[dict]:
    return [
        {
            "title": form.cleaned_data["title"],
            "description": form.cleaned_data.get("description") or "",
            "team": form.cleaned_data["team"].pk if form.cleaned_data.get("team") else None,
        }
        for form in _ordered(formset)
    ]
