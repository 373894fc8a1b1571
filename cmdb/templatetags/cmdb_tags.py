import json

from django import template

register = template.Library()

CLASS_ICONS = {
    "business_service": "briefcase",
    "application": "window-stack",
    "database": "database",
    "server": "hdd-rack",
    "network_device": "router",
    "storage": "device-hdd",
    "cloud_resource": "cloud",
}


@register.filter
def class_icon(class_name: str) -> str:
    """The bootstrap-icons name for a CI class (a box for classes admins added)."""
    return CLASS_ICONS.get(class_name, "box")


@register.filter
def attribute_value(value) -> str:
    """An attribute as a person reads it: yes/no, plain text, or compact JSON."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@register.simple_tag
def query_without(query, name: str, value=None) -> str:
    """The list page's query string without one filter value (for the "remove" chips)."""
    data = query.copy()
    if value is None:
        data.pop(name, None)
    else:
        data.setlist(name, [v for v in data.getlist(name) if v != str(value)])
    data.pop("page", None)
    return data.urlencode()


@register.filter
def field_value(obj, name: str):
    """``obj.<name>`` for a field name known only at run time (a change's planned start)."""
    return getattr(obj, name, None)
