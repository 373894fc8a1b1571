"""Personas and builders every test uses (STYLE §9).

rita (requester), alice (Service Desk agent), bob (Network agent), carol (CAB member),
max (manager), paula (problem manager), chris (change manager), ada (admin).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Team, User
from itsm.permissions import ADMIN

PASSWORD = "correct-horse-battery"

PERSONAS = {
    "rita": {"first_name": "Rita", "last_name": "Requester", "roles": ()},
    "eve": {"first_name": "Eve", "last_name": "Other", "roles": ()},
    "alice": {"first_name": "Alice", "last_name": "Agent", "roles": ("agent",)},
    "bob": {"first_name": "Bob", "last_name": "Network", "roles": ("agent",)},
    "carol": {"first_name": "Carol", "last_name": "Cab", "roles": ("cab_member",)},
    "chris": {"first_name": "Chris", "last_name": "Change", "roles": ("change_manager",)},
    "paula": {"first_name": "Paula", "last_name": "Problem", "roles": ("problem_manager",)},
    "max": {"first_name": "Max", "last_name": "Manager", "roles": ("manager",)},
    "ada": {"first_name": "Ada", "last_name": "Admin", "roles": (ADMIN,)},
}


def make_user(username: str, *, roles=(), password: str = PASSWORD, **fields) -> User:
    from accounts.services import create_user

    fields.setdefault("email", f"{username}@example.com")
    return create_user(actor=None, username=username, roles=roles, password=password, **fields)


def make_persona(name: str) -> User:
    spec = PERSONAS[name]
    existing = User.objects.filter(username=name).first()
    if existing:
        return existing
    return make_user(
        name, roles=spec["roles"], first_name=spec["first_name"], last_name=spec["last_name"]
    )


def make_team(name: str, *, members=(), lead=None) -> Team:
    from accounts.services import add_members, save_team

    team = Team.objects.filter(name=name).first() or save_team(
        None, {"name": name, "lead": lead}, actor=None
    )
    if members:
        add_members(team, members, actor=None)
    return team


def make_incident(**overrides):
    """An incident as its requester reports it, or, when it needs fields only agents set
    (``ci``, ``assignee``...), as logged by the system; ``actor=`` says who otherwise."""
    from incidents.permissions import REQUESTER_FIELDS
    from incidents.services import open_incident

    requester = overrides.pop("requester", None) or make_persona("rita")
    actor = overrides.pop("actor", None)
    if actor is None and set(overrides) <= REQUESTER_FIELDS | {"title", "description"}:
        actor = requester
    overrides.setdefault("title", "Outlook keeps asking for my password")
    overrides.setdefault("description", "Since this morning, every few minutes.")
    return open_incident(actor=actor, requester=requester, **overrides)


# --- The permission matrix (SPEC §1: deny by default) ----------------------------------------
#
# Each app's ``tests/<app>/test_permissions.py`` declares, for every route it owns (pages and
# API), every method and every kind of caller, the status it must answer, in one table that
# the mixin below reads: ``PermissionMatrix``. A route of the app with no row fails the test,
# and ``tests/itsm/test_permission_matrix.py`` fails for any route of the project that no
# app's table covers.

# The callers every table has a column for: the persona who plays each.
MATRIX_ROLES = {
    "anonymous": None,
    "requester": "rita",  # requested the scene's tickets
    "other_user": "eve",  # an end user who did not
    "agent": "alice",  # agent of the team the scene's tickets are assigned to
    "other_agent": "bob",  # agent of another team
    "cab_member": "carol",
    "change_manager": "chris",
    "problem_manager": "paula",
    "manager": "max",
    "admin": "ada",
}
STAFF = ("agent", "other_agent", "change_manager", "problem_manager", "manager", "admin")


def expect(default: int | None = None, **statuses: int) -> dict[str, int]:
    """A row's statuses: ``default`` for every caller, then the named ones; ``staff=`` sets
    every staff column and ``end_users=`` the requester, the other user and the CAB member."""
    table = dict.fromkeys(MATRIX_ROLES, default)
    for group, names in (
        ("staff", STAFF),
        ("end_users", ("requester", "other_user", "cab_member")),
    ):
        if group in statuses:
            table.update(dict.fromkeys(names, statuses.pop(group)))
    unknown = set(statuses) - set(MATRIX_ROLES)
    if unknown:
        raise ValueError(f"no such caller: {', '.join(sorted(unknown))}")
    table.update(statuses)
    missing = [role for role, status in table.items() if status is None]
    if missing:
        raise ValueError(f"no status for: {', '.join(missing)}")
    return table


@dataclass(frozen=True)
class Row:
    """One route and method: the status each caller gets. ``args`` builds the URL's keyword
    arguments from the scene; ``body`` (a dict, or a callable of the scene) is sent as
    ``format`` (``json``, ``multipart`` or ``form``); ``environ`` (a dict, or a callable of the
    scene) adds WSGI variables to the request (``REMOTE_ADDR``...)."""

    name: str
    method: str
    statuses: Mapping[str, int]
    args: Callable[[Any], dict] = field(default=lambda scene: {})
    body: Callable[[Any], dict] | dict | None = None
    format: str = "json"
    environ: Callable[[Any], dict] | dict | None = None

    def request(self, client, scene):
        url = reverse(self.name, kwargs=self.args(scene))
        body = self.body(scene) if callable(self.body) else self.body
        environ = (self.environ(scene) if callable(self.environ) else self.environ) or {}
        call = getattr(client, self.method.lower())
        if self.method == "GET":
            return call(url, body or {}, **environ)
        if self.format == "json":
            return call(url, body or {}, format="json", **environ)
        return call(url, body or {}, format="multipart", **environ)


def row(name: str, method: str, statuses: Mapping[str, int], **options) -> Row:
    return Row(name=name, method=method, statuses=statuses, **options)


def project_routes(exclude=()) -> list[tuple[str, tuple[str, ...]]]:
    """Every named route of the project: ``(url name, methods)``, the methods read from the
    view where it declares them (class-based views, ``require_http_methods``), else ``()``
    (one row at least is required)."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield ":".join([*namespaces, pattern.name]), _methods(pattern.callback)

    routes = {}
    for name, methods in walk(get_resolver().url_patterns, []):
        if not any(name == prefix or name.startswith(prefix) for prefix in exclude):
            routes[name] = methods
    return sorted(routes.items())


def _methods(callback) -> tuple[str, ...]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:
        return _guarded_methods(callback)
    names = getattr(callback, "view_initkwargs", {}).get("http_method_names")
    allowed = {m for m in names or view.http_method_names if m not in ("head", "options")}
    actions = getattr(callback, "actions", None)
    if actions:
        return tuple(sorted(m.upper() for m in actions if m in allowed))
    return tuple(sorted(m.upper() for m in allowed if hasattr(view, m)))


def _guarded_methods(function) -> tuple[str, ...]:
    """The methods a function view takes, read from Django's ``require_http_methods`` (and so
    ``require_POST``, ``require_safe``...) through the ``__wrapped__`` chain of its decorators;
    ``()`` when nothing guards it."""
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = function.__closure__[code.co_freevars.index("request_method_list")]
            return tuple(sorted(m for m in cell.cell_contents if m not in ("HEAD", "OPTIONS")))
        function = getattr(function, "__wrapped__", None)
    return ()


def uncovered(routes, rows) -> list[str]:
    """Routes (and methods) no row covers, as readable lines."""
    covered: dict[str, set[str]] = {}
    for entry in rows:
        covered.setdefault(entry.name, set()).add(entry.method)
    missing = []
    for name, methods in routes:
        have = covered.get(name, set())
        if not have:
            missing.append(f"{name} (no row)")
        missing.extend(f"{name} {method}" for method in methods if method not in have)
    return missing


class PermissionMatrix:
    """Mix into a ``Test…`` class with ``rows`` (the table), ``owns`` (prefixes of the URL
    names the app owns: each of its routes must have a row) and ``scene()`` (builds the
    objects the rows address; the personas exist already).

    Each caller's requests run one after another against the same scene, each in a savepoint
    rolled back afterwards, so a write allowed for one row never changes what the next sees.
    """

    rows: Sequence[Row] = ()
    owns: Sequence[str] = ()

    def scene(self):
        raise NotImplementedError

    def test_every_route_of_the_app_has_a_row(self):
        routes = [
            (name, methods)
            for name, methods in project_routes()
            if any(name.startswith(prefix) for prefix in self.owns)
        ]
        assert routes, f"no route starts with {self.owns}"
        assert uncovered(routes, self.rows) == []

    @pytest.mark.parametrize("role", list(MATRIX_ROLES))
    def test_each_caller_gets_what_the_matrix_says(self, role, db):
        from django.db import transaction
        from rest_framework.test import APIClient

        people = {name: make_persona(persona) for name, persona in MATRIX_ROLES.items() if persona}
        scene = self.scene()
        client = APIClient()
        if people.get(role) is not None:
            client.force_login(people[role])
        wrong = []
        for entry in self.rows:
            with transaction.atomic():
                response = entry.request(client, scene)
                transaction.set_rollback(True)
            expected = entry.statuses[role]
            if response.status_code != expected:
                wrong.append(
                    f"{entry.method} {entry.name}: expected {expected}, got {response.status_code}"
                )
        assert wrong == [], f"as {role}:\n" + "\n".join(wrong)
