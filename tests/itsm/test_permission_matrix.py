"""Every route of the project has a row in some app's permission matrix (SPEC §1: deny by
default is only true of what is tested).

The tables live in ``tests/<app>/test_permissions*.py``; this test reads them all and fails
for any route, or any method of a route, that no table covers: a new endpoint without a row
fails here before anyone ships it.
"""

import importlib
from pathlib import Path

import pytest
from django.urls import NoReverseMatch

from itsm.testing import (
    MATRIX_ROLES,
    PermissionMatrix,
    expect,
    project_routes,
    row,
    uncovered,
)

TESTS = Path(__file__).resolve().parent.parent

# Routes no matrix covers, each with why.
EXEMPT = (
    "admin:",  # Django's admin: its own sign-in and is_staff check (is_staff = the admin role)
)


def matrices() -> list[type[PermissionMatrix]]:
    found = []
    for path in sorted(TESTS.glob("*/test_permissions*.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, PermissionMatrix)
            and value is not PermissionMatrix
        )
    return found


def test_the_matrices_of_every_app_are_found():
    assert {m.__module__ for m in matrices()} >= {
        "tests.accounts.test_permissions",
        "tests.cmdb.test_permissions",
        "tests.incidents.test_permissions",
        "tests.itsm.test_permissions",
        "tests.sla.test_permissions",
    }


def test_every_route_of_the_project_has_a_row():
    rows = [entry for matrix in matrices() for entry in matrix.rows]
    assert uncovered(project_routes(exclude=EXEMPT), rows) == []


def test_every_route_says_which_methods_it_takes():
    """A page that does not say (``require_http_methods``, ``require_POST``, ``require_safe``)
    answers every method, and no table could cover them all."""
    assert [name for name, methods in project_routes(exclude=EXEMPT) if not methods] == []


def test_every_row_names_a_route_and_a_method_it_serves():
    routes = dict(project_routes())
    wrong = [
        f"{entry.name} {entry.method}"
        for matrix in matrices()
        for entry in matrix.rows
        if entry.name not in routes or entry.method not in (routes[entry.name] or [entry.method])
    ]
    assert wrong == []


def test_a_row_must_give_every_caller_a_status():
    with pytest.raises(ValueError, match="no status for: admin"):
        expect(**{role: 200 for role in MATRIX_ROLES if role != "admin"})
    with pytest.raises(ValueError, match="no such caller: janitor"):
        expect(200, janitor=403)


def test_a_row_naming_no_route_fails():
    from rest_framework.test import APIClient

    with pytest.raises(NoReverseMatch):
        row("cmdb:ci_teleport", "GET", expect(200)).request(APIClient(), scene=None)
