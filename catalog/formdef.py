"""Catalog item forms: checking a form definition, and answers against it (SPEC §8).

Pure functions, no database. A form is a list of field objects, the shape the API reads and
writes (``catalog/items/`` ``form``)::

    {"name": "model", "label": "Model", "type": "choice", "required": true,
     "help_text": "", "choices": [{"value": "standard", "label": "Standard 14-inch",
                                   "translations": {"fr": "Standard 14 pouces"}}],
     "min": null, "max": null,
     "translations": {"fr": {"label": "Modèle", "help_text": ""}}}

Item names and form labels are data written by the people who run the catalog, not strings of
the code: each carries its text in the default language and, in ``translations``, one per other
language of the site; a reader gets their language's text, else the default one.

Answers are an object ``{field name: value}``; ``clean_answers`` checks every field and returns
the cleaned values, or raises ``AnswersInvalid`` with the messages of each field by name.
"""

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

TEXT, TEXTAREA, NUMBER, CHOICE, BOOLEAN, DATE = (
    "text",
    "textarea",
    "number",
    "choice",
    "boolean",
    "date",
)
FIELD_TYPES = {
    TEXT: gettext_lazy("Short text"),
    TEXTAREA: gettext_lazy("Long text"),
    NUMBER: gettext_lazy("Number"),
    CHOICE: gettext_lazy("Choice from a list"),
    BOOLEAN: gettext_lazy("Yes / no (tick box)"),
    DATE: gettext_lazy("Date"),
}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_FIELDS = 50
MAX_CHOICES = 100
MAX_LENGTH = {TEXT: 500, TEXTAREA: 10_000}
LABEL_LENGTH = 200
HELP_LENGTH = 500
VALUE_LENGTH = 100
NUMBER_LIMIT = Decimal("1e12")
FIELD_KEYS = {"name", "label", "type", "required", "help_text", "choices", "min", "max"}
FIELD_KEYS |= {"translations"}
TRUE = {"true", "on", "1", "yes"}
FALSE = {"false", "off", "0", "no", ""}


class AnswersInvalid(ValidationError):
    """Answers that do not satisfy the form: ``fields`` maps each field name to its messages.

    It reads as ``{"answers": ["<label>: <message>", ...]}`` wherever a plain
    ``ValidationError`` is expected; the API answers ``{"answers": {name: [messages]}}``.
    """

    def __init__(self, fields: dict[str, list[str]], labels: dict[str, str] | None = None):
        self.fields = fields
        labels = labels or {}
        flat = [
            f"{labels.get(name, name)}: {message}"
            for name, messages in fields.items()
            for message in messages
        ]
        super().__init__({"answers": flat})


# --- Languages -----------------------------------------------------------------------------------


def other_languages() -> list[tuple[str, str]]:
    """The site's languages besides the default one: those a text may be translated into."""
    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _language(language: str | None) -> str:
    return (language or get_language() or settings.LANGUAGE_CODE).split("-")[0]


def localized(default: str, translations, language: str | None = None) -> str:
    """``default`` in ``language`` (the active one when None): its translation when there is a
    non-empty one, else ``default``. ``translations`` maps a language to the text."""
    code = _language(language)
    if code != settings.LANGUAGE_CODE and isinstance(translations, dict):
        text = translations.get(code)
        if isinstance(text, str) and text.strip():
            return text
    return default


def field_text(field: dict, key: str, language: str | None = None) -> str:
    """A field's ``label`` or ``help_text`` in ``language``."""
    translations = {
        code: (texts or {}).get(key, "")
        for code, texts in (field.get("translations") or {}).items()
        if isinstance(texts, dict)
    }
    return localized(field.get(key) or "", translations, language)


def choice_label(field: dict, value, language: str | None = None) -> str:
    for choice in field.get("choices") or ():
        if choice["value"] == value:
            return localized(choice["label"], choice.get("translations"), language)
    return str(value)


def name_from_label(label: str, taken=()) -> str:
    """A field name people never have to type: ``"Needed by"`` → ``needed_by`` (made unique
    against ``taken``)."""
    base = slugify(label).replace("-", "_")[:40].strip("_") or "field"
    if not base[0].isalpha():
        base = f"f_{base}"
    name, counter = base, 2
    while name in taken:
        name = f"{base}_{counter}"
        counter += 1
    return name


# --- The form definition -------------------------------------------------------------------------


def clean_form(form) -> list[dict]:
    """The form definition checked and normalised (every key present), or ValidationError
    ``{"form": [messages]}`` naming each field at fault by position and name."""
    if form is None:
        return []
    if not isinstance(form, list):
        raise ValidationError({"form": [_("The form must be a list of fields.")]})
    if len(form) > MAX_FIELDS:
        raise ValidationError({"form": [_("A form has at most %(n)d fields.") % {"n": MAX_FIELDS}]})
    errors: list[str] = []
    cleaned: list[dict] = []
    names: set[str] = set()
    for position, raw in enumerate(form, start=1):
        problems: list[str] = []
        field = _clean_field(raw, problems)
        name = field.get("name", "")
        if name and name in names:
            problems.append(_("another field already has this name."))
        names.add(name)
        where = _("Field %(n)d") % {"n": position}
        if name:
            where += f" (“{name}”)"
        errors.extend(f"{where}: {problem}" for problem in problems)
        cleaned.append(field)
    if errors:
        raise ValidationError({"form": errors})
    return cleaned


def _text(raw: dict, key: str, limit: int, problems: list, *, required=False) -> str:
    value = raw.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(_("“%(key)s” must be text.") % {"key": key})
        return ""
    value = value.strip()
    if required and not value:
        problems.append(_("“%(key)s” is required.") % {"key": key})
    if len(value) > limit:
        problems.append(_("“%(key)s” has at most %(n)d characters.") % {"key": key, "n": limit})
    if "\x00" in value:
        problems.append(_("Text cannot contain NUL characters."))
    return value


def _translations(raw, keys: tuple[str, ...], limit: int, problems: list) -> dict:
    """``{language: {key: text}}`` for the site's other languages (empty texts dropped)."""
    if raw in (None, ""):
        return {}
    languages = {code for code, _name in other_languages()}
    if not isinstance(raw, dict):
        problems.append(_("“translations” must map a language to its texts."))
        return {}
    cleaned = {}
    for code, texts in raw.items():
        if code not in languages:
            problems.append(_("“%(code)s” is not a language of this site.") % {"code": code})
            continue
        if len(keys) == 1 and isinstance(texts, str):
            texts = {keys[0]: texts}
        if not isinstance(texts, dict) or set(texts) - set(keys):
            problems.append(
                _("Translations into “%(code)s” take: %(keys)s.")
                % {"code": code, "keys": ", ".join(keys)}
            )
            continue
        kept = {key: _text(texts, key, limit, problems) for key in keys}
        kept = {key: text for key, text in kept.items() if text}
        if kept:
            cleaned[code] = kept
    return cleaned


def clean_translations(raw, keys: tuple[str, ...]) -> dict:
    """An item's or a category's ``translations``: ``{language: {key: text}}`` checked, or
    ValidationError on ``translations``."""
    problems: list[str] = []
    cleaned = _translations(raw, keys, 10_000, problems)
    if problems:
        raise ValidationError({"translations": problems})
    return cleaned


def _number(value, key: str, problems: list):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(_("“%(key)s” must be a number.") % {"key": key})
        return None
    return value


def _clean_field(raw, problems: list) -> dict:
    if not isinstance(raw, dict):
        problems.append(_("each field must be an object."))
        return {}
    unknown = sorted(set(raw) - FIELD_KEYS)
    if unknown:
        problems.append(_("unknown properties: %(keys)s.") % {"keys": ", ".join(unknown)})
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(
            _(
                "the name must start with a letter and hold only lower-case letters, digits "
                "and underscores (50 at most)."
            )
        )
        name = name if isinstance(name, str) else ""
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        problems.append(
            _("the type must be one of: %(types)s.") % {"types": ", ".join(FIELD_TYPES)}
        )
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(_("“required” must be true or false."))
        required = False
    field = {
        "name": name,
        "label": _text(raw, "label", LABEL_LENGTH, problems, required=True),
        "type": kind,
        "required": required,
        "help_text": _text(raw, "help_text", HELP_LENGTH, problems),
        "choices": _clean_choices(raw.get("choices"), kind, problems),
        "min": _number(raw.get("min"), "min", problems),
        "max": _number(raw.get("max"), "max", problems),
        "translations": _translations(
            raw.get("translations"), ("label", "help_text"), HELP_LENGTH, problems
        ),
    }
    if kind != NUMBER and (field["min"] is not None or field["max"] is not None):
        problems.append(_("only a number field has a minimum and a maximum."))
    if field["min"] is not None and field["max"] is not None and field["min"] > field["max"]:
        problems.append(_("the minimum is above the maximum."))
    return field


def _clean_choices(raw, kind, problems: list) -> list[dict]:
    if raw in (None, "", []):
        if kind == CHOICE:
            problems.append(_("a choice field needs at least one option."))
        return []
    if kind != CHOICE:
        problems.append(_("only a choice field has options."))
        return []
    if not isinstance(raw, list):
        problems.append(_("“choices” must be a list."))
        return []
    if len(raw) > MAX_CHOICES:
        problems.append(_("at most %(n)d options.") % {"n": MAX_CHOICES})
        return []
    choices, values = [], set()
    for item in raw:
        if isinstance(item, str):
            item = {"value": item, "label": item}
        if not isinstance(item, dict) or set(item) - {"value", "label", "translations"}:
            problems.append(_("each option is a text, or an object with value and label."))
            continue
        value = item.get("value")
        if not isinstance(value, str) or not value.strip() or len(value) > VALUE_LENGTH:
            problems.append(
                _("each option needs a value of 1 to %(n)d characters.") % {"n": VALUE_LENGTH}
            )
            continue
        value = value.strip()
        if value in values:
            problems.append(_("the option “%(value)s” is listed twice.") % {"value": value})
            continue
        values.add(value)
        label = item.get("label") or value
        if not isinstance(label, str):
            problems.append(_("an option's label must be text."))
            continue
        translations = _translations(item.get("translations"), ("label",), LABEL_LENGTH, problems)
        choices.append(
            {
                "value": value,
                "label": label.strip()[:LABEL_LENGTH],
                "translations": {code: texts["label"] for code, texts in translations.items()},
            }
        )
    return choices


# --- Answers -------------------------------------------------------------------------------------


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_answers(form: list[dict], answers) -> dict:
    """``answers`` checked against ``form``: the cleaned values (missing optional fields left
    out), or ``AnswersInvalid`` with every field's messages at once."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("The answers must be an object {name: value}.")]})
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    known = {field["name"] for field in form}
    for name in answers:
        if name not in known:
            errors[str(name)] = [_("This form has no such field.")]
    for field in form:
        name = field["name"]
        value = answers.get(name)
        if field["type"] == BOOLEAN:
            try:
                value = _boolean(value)
            except ValueError as exc:
                errors[name] = [str(exc)]
                continue
            if field["required"] and value is not True:
                errors[name] = [_("Tick this box to go on.")]
            elif value is not None:
                cleaned[name] = value
            continue
        if _empty(value):
            if field["required"]:
                errors[name] = [_("This field is required.")]
            continue
        try:
            cleaned[name] = CLEANERS[field["type"]](field, value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise AnswersInvalid(errors, {f["name"]: f["label"] for f in form})
    return cleaned


def _boolean(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise ValueError(_("Answer yes (true) or no (false)."))


def _string(field, value) -> str:
    if not isinstance(value, str):
        raise ValueError(_("Enter text."))
    value = value.strip()
    limit = MAX_LENGTH[field["type"]]
    if len(value) > limit:
        raise ValueError(_("Enter at most %(n)d characters.") % {"n": limit})
    if "\x00" in value:
        raise ValueError(_("Text cannot contain NUL characters."))
    return value


def _number_answer(field, value):
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
    elif isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        raise ValueError(_("Enter a number."))
    if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
        raise ValueError(_("Enter a number."))
    if field.get("min") is not None and number < Decimal(str(field["min"])):
        raise ValueError(_("Enter a number of at least %(n)s.") % {"n": _plain(field["min"])})
    if field.get("max") is not None and number > Decimal(str(field["max"])):
        raise ValueError(_("Enter a number of at most %(n)s.") % {"n": _plain(field["max"])})
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _choice(field, value) -> str:
    values = [choice["value"] for choice in field["choices"]]
    if not isinstance(value, str) or value not in values:
        raise ValueError(_("Choose one of: %(values)s.") % {"values": ", ".join(values)})
    return value


def _date(field, value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError(_("Enter a date as YYYY-MM-DD."))


CLEANERS = {
    TEXT: _string,
    TEXTAREA: _string,
    NUMBER: _number_answer,
    CHOICE: _choice,
    DATE: _date,
}


# --- Reading answers -----------------------------------------------------------------------------


def answer_rows(form: list[dict], answers: dict, language: str | None = None) -> list[dict]:
    """The answers as people read them, in the form's order: ``[{"name", "label", "type",
    "value", "display"}]`` (a choice by its label, a tick box as yes/no, a date as a date)."""
    rows = []
    for field in form:
        name = field["name"]
        if name not in answers:
            continue
        value = answers[name]
        if field["type"] == CHOICE:
            display = choice_label(field, value, language)
        elif field["type"] == BOOLEAN:
            display = _("Yes") if value else _("No")
        elif field["type"] == DATE:
            try:
                display = date.fromisoformat(value)
            except (TypeError, ValueError):
                display = value
        else:
            display = value
        rows.append(
            {
                "name": name,
                "label": field_text(field, "label", language),
                "type": field["type"],
                "value": value,
                "display": display,
            }
        )
    return rows
