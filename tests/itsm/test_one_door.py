"""One door for every write: only service modules write models or call the kernel's raw
writers; every other channel (views, API, portal, forms, admin, commands, demo data) calls
their verbs, which hold the rules (DEVELOPERS.md, STYLE §2).

Read from the source (every call that writes) and from the running project (every API view and
admin page that could write through Django's or DRF's defaults instead of a verb).
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory

from itsm.testing import make_persona

ROOT = Path(__file__).resolve().parents[2]
# Modules that write beside ``services.py``, each for a reason that keeps the rule in one place.
SERVICE_MODULES = {
    "itsm/notify.py": "the notification outbox: rows written in the caller's transaction, "
    "then delivery marks",
    "itsm/approvals.py": "approval links: the record that a link was used, in the "
    "transaction of the app's own approval verb",
    "itsm/models.py": "the per-type number counter (SQLite) and the append-only trail's guards",
    "itsm/db.py": "insert_rows: the rows a writer above hands it (the outbox, the scanner), in "
    "one statement; it decides nothing",
    "sla/config.py": "the SLA engine's configuration verbs (calendars, policies)",
    "sla/scanner.py": "the SLA scanner: timers, escalations and their events",
    "sla/models.py": "a model's own save() (no side effects)",
    "cmdb/classes.py": "the default CI classes, installed by a data migration (historical "
    "model: the verbs cannot run there)",
}
# Not the product: the benchmark writes a million rows in bulk; tests build their scenes.
NOT_SCANNED = {"tests", "bench", "node_modules", "var", "staticfiles", "docs", "locale"}
KERNEL_WRITERS = {
    "create_ticket",
    "update_ticket",
    "transition",
    "add_comment",
    "add_attachment",
    "add_attachments",
    "watch",
    "unwatch",
    "write_versioned",
    "record_events",
}
MODEL_WRITES = {"create", "bulk_create", "get_or_create", "update_or_create", "bulk_update"}
QUERYSET_WRITES = {"update", "delete"}
QUERYSET_SOURCES = {"filter", "exclude", "all", "select_for_update", "none", "only", "defer"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        parts = relative.parts
        if parts[0].startswith(".") or parts[0] in NOT_SCANNED or "migrations" in parts:
            continue
        yield relative.as_posix(), path


def _is_service_module(relative: str) -> bool:
    """``<app>/services.py``, a module of an ``<app>/services/`` package, or a listed one."""
    parts = relative.split("/")
    return parts[-1] == "services.py" or "services" in parts[1:-1] or relative in SERVICE_MODULES


def _project_apps() -> set[str]:
    """The labels of the project's own apps (those whose code lives in this repository)."""
    return {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(ROOT)
        and ".venv" not in Path(config.path).parts
    }


def _m2m_accessors() -> set[str]:
    names = set()
    for model in apps.get_models():
        if model._meta.app_label not in _project_apps():
            continue
        for field in model._meta.get_fields():
            if field.many_to_many:
                names.add(field.get_accessor_name() if field.auto_created else field.name)
    return names


def _is_kernel(name: str, source: str) -> bool:
    """``kernel.x`` is the kernel's writer; ``services.x`` only where ``services`` is it."""
    return name == "kernel" or (name == "services" and "from itsm import services" in source)


def writes_in(source: str, m2m: set[str]) -> list[tuple[int, str]]:
    """``(line, what)`` for every call in ``source`` that writes the database directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, node.func.value
        text = ast.unparse(node.func)
        if name == "save":
            # super().save() inside a model, and a FileField's storage write, are not doors
            is_super = isinstance(receiver, ast.Call) and ast.unparse(receiver) == "super()"
            if not is_super and not text.endswith(".file.save"):
                found.append((node.lineno, text))
        elif name in MODEL_WRITES and isinstance(receiver, ast.Attribute):
            if receiver.attr == "objects" or receiver.attr in m2m:
                found.append((node.lineno, text))
        elif name in QUERYSET_WRITES and isinstance(receiver, ast.Call):
            source_call = receiver.func
            if isinstance(source_call, ast.Attribute) and source_call.attr in QUERYSET_SOURCES:
                found.append((node.lineno, text))
        elif name == "delete" and not node.args and not node.keywords:
            found.append((node.lineno, text))
        elif name in {"add", "set", "remove", "clear"} and isinstance(receiver, ast.Attribute):
            if receiver.attr in m2m:
                found.append((node.lineno, text))
        elif name in KERNEL_WRITERS and _is_kernel(ast.unparse(receiver), source):
            found.append((node.lineno, text))
    return sorted(found)


def test_only_service_modules_write():
    m2m = _m2m_accessors()
    doors = []
    for relative, path in _modules():
        if _is_service_module(relative):
            continue
        source = path.read_text(encoding="utf-8")
        doors += [f"{relative}:{line}: {what}" for line, what in writes_in(source, m2m)]
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "itsm.services":
                writers = {alias.name for alias in node.names} & KERNEL_WRITERS
                if writers:
                    doors.append(f"{relative}:{node.lineno}: imports {', '.join(sorted(writers))}")
    assert doors == [], "writes outside a service verb:\n" + "\n".join(doors)


def test_the_scanner_sees_the_writes_it_must_refuse():
    """The detector itself: each kind of direct write is found, reads are not."""
    m2m = {"watchers", "members"}
    source = "\n".join(
        [
            "incident.save()",
            "Incident.objects.create(title='x')",
            "Incident.objects.filter(pk=1).update(state='closed')",
            "ticket.watchers.add(user)",
            "relationship.delete()",
            "kernel.transition(incident, 'closed', actor=None)",
            "Incident.objects.filter(pk=1).exists()",
            "seen.add(1)",
            "values.update(a=1)",
            "attachment.file.save(name, upload, save=False)",
            "super().save(*args, **kwargs)",
        ]
    )
    assert [line for line, _what in writes_in(source, m2m)] == [1, 2, 3, 4, 5, 6]


def _api_views():
    from django.urls import URLResolver, get_resolver

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif getattr(pattern.callback, "cls", None) is not None:
                yield pattern.name, pattern.callback.cls

    return {cls: name for name, cls in walk(get_resolver().url_patterns)}


def _ours(function) -> bool:
    module = getattr(function, "__module__", "") or ""
    return not module.startswith(("rest_framework", "django."))


def test_no_api_view_writes_through_the_framework_defaults():
    """A DRF create, update or destroy either calls a verb in ``perform_*`` or goes through a
    serializer whose ``create``/``update`` calls one: DRF's own ModelSerializer writes the
    model directly, past every rule."""
    from rest_framework import mixins, serializers

    defaults = []
    for view, name in _api_views().items():
        serializer = getattr(view, "serializer_class", None)
        for mixin, perform, method in (
            (mixins.CreateModelMixin, "perform_create", "create"),
            (mixins.UpdateModelMixin, "perform_update", "update"),
            (mixins.DestroyModelMixin, "perform_destroy", None),
        ):
            if not issubclass(view, mixin) or _ours(getattr(view, perform)):
                continue
            if (
                method
                and serializer is not None
                and issubclass(serializer, serializers.ModelSerializer)
                and _ours(getattr(serializer, method))
            ):
                continue
            defaults.append(f"{name}: {view.__name__}.{perform} is DRF's default")
    assert defaults == []


@pytest.mark.django_db
def test_no_admin_page_writes_past_the_verbs():
    """Every admin page an administrator could write through either is read-only or saves
    and deletes through the app's verbs."""
    request = RequestFactory().get("/admin/")
    request.user = make_persona("ada")
    doors = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in _project_apps():
            continue
        label = model._meta.label
        can_write = model_admin.has_add_permission(request) or model_admin.has_change_permission(
            request
        )
        if can_write and not _ours(type(model_admin).save_model):
            doors.append(f"{label}: save_model is Django's")
        if model_admin.has_delete_permission(request):
            for method in ("delete_model", "delete_queryset"):
                if not _ours(getattr(type(model_admin), method)):
                    doors.append(f"{label}: {method} is Django's")
    assert doors == []
