"""Attribute schemas: checking a class's JSON Schema and a CI's attributes against it.

Pure functions, no database access. Errors come back per attribute, keyed
``attributes.<name>`` (``attributes.disks.0.size_gb`` for nested values, ``attributes`` for
the object as a whole), with messages a person can read and translators can translate.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

FORMAT_CHECKER = FormatChecker()
TYPE_LABELS = {
    "string": gettext_noop("text"),
    "integer": gettext_noop("whole number"),
    "number": gettext_noop("number"),
    "boolean": gettext_noop("true or false"),
    "object": gettext_noop("object"),
    "array": gettext_noop("list"),
    "null": gettext_noop("null"),
}


def schema_errors(schema) -> list[str]:
    """Why ``schema`` is not a usable JSON Schema for attributes (empty when it is)."""
    if not isinstance(schema, dict):
        return [_("The schema must be a JSON object.")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return [
            _("Invalid JSON Schema at %(where)s: %(error)s")
            % {"where": where or "/", "error": exc.message}
        ]
    if schema.get("type", "object") != "object":
        return [_('The schema must describe an object ("type": "object").')]
    return []


def _key(path) -> str:
    return ".".join(["attributes", *(str(p) for p in path)])


def _message(error) -> tuple[list[str], str]:
    """The attribute paths an error belongs to, and its message."""
    path = list(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        missing = [
            name
            for name in value
            if isinstance(error.instance, dict) and name not in error.instance
        ]
        return [_key([*path, name]) for name in missing], _("This attribute is required.")
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = set((error.schema.get("properties") or {}).keys())
        extra = [name for name in error.instance if name not in known]
        return [_key([*path, name]) for name in extra], _("Unknown attribute for this class.")
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        label = _(" or ").join(_(TYPE_LABELS.get(t, t)) for t in types)
        return [_key(path)], _("Must be a %(type)s.") % {"type": label}
    if kind == "enum":
        return [_key(path)], _("Must be one of: %(choices)s.") % {
            "choices": ", ".join(str(v) for v in value)
        }
    if kind == "const":
        return [_key(path)], _("Must be %(value)s.") % {"value": value}
    if kind in {"minimum", "exclusiveMinimum"}:
        template = (
            _("Must be at least %(limit)s.")
            if kind == "minimum"
            else _("Must be more than %(limit)s.")
        )
        return [_key(path)], template % {"limit": value}
    if kind in {"maximum", "exclusiveMaximum"}:
        template = (
            _("Must be at most %(limit)s.")
            if kind == "maximum"
            else _("Must be less than %(limit)s.")
        )
        return [_key(path)], template % {"limit": value}
    if kind == "minLength":
        return [_key(path)], _("Must have at least %(limit)s characters.") % {"limit": value}
    if kind == "maxLength":
        return [_key(path)], _("Must have at most %(limit)s characters.") % {"limit": value}
    if kind == "pattern":
        return [_key(path)], _("Does not have the expected form (%(pattern)s).") % {
            "pattern": value
        }
    if kind == "format":
        return [_key(path)], _("Not a valid %(format)s.") % {"format": value}
    if kind in {"minItems", "maxItems"}:
        template = (
            _("Needs at least %(limit)s items.")
            if kind == "minItems"
            else _("Allows at most %(limit)s items.")
        )
        return [_key(path)], template % {"limit": value}
    return [_key(path)], error.message


def attribute_errors(schema, attributes) -> dict[str, list[str]]:
    """``{"attributes.<name>": [messages]}`` for ``attributes`` against ``schema``."""
    if not isinstance(attributes, dict):
        return {"attributes": [_("Attributes must be a JSON object.")]}
    if _has_nul(attributes):
        return {"attributes": [_("Text cannot contain NUL characters.")]}
    if not schema:
        return {}
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = defaultdict(list)
    try:
        found = sorted(validator.iter_errors(attributes), key=lambda e: list(e.absolute_path))
    except Exception as exc:  # e.g. a $ref the schema cannot resolve: the class is broken
        return {
            "attributes": [_("The class's schema cannot be applied: %(error)s") % {"error": exc}]
        }
    for error in found:
        keys, message = _message(error)
        for key in keys or ["attributes"]:
            if message not in errors[key]:
                errors[key].append(message)
    return dict(errors)


def _has_nul(value) -> bool:
    """PostgreSQL's jsonb cannot store U+0000 in strings (nor in keys)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def schema_properties(schema) -> list[dict]:
    """The documented top-level attributes of ``schema``, required first, then by title (a
    jsonb column does not keep the order the schema was written in)."""
    if not isinstance(schema, dict):
        return []
    required = set(schema.get("required") or ())
    rows = []
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        rows.append(
            {
                "name": name,
                "title": spec.get("title") or name.replace("_", " ").capitalize(),
                "type": spec.get("type", ""),
                "enum": spec.get("enum"),
                "format": spec.get("format", ""),
                "description": spec.get("description", ""),
                "required": name in required,
            }
        )
    return sorted(rows, key=lambda row: (not row["required"], row["title"].lower()))
