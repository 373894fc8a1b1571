"""A database that does not answer (restarting, failing over, out of connections) gives the
product's 503 — the page for people, JSON for the API, with Retry-After — never a 500, and the
next request works again without restarting the app. The restart itself, with a real server, is
in ``tests/faults/test_postgres_restart.py``."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from itsm.testing import make_persona


@pytest.fixture
def client_of(db):
    def build(user):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    return build


@pytest.mark.parametrize("error", [OperationalError("server closed"), InterfaceError("closed")])
def test_a_page_answers_503_with_the_product_page(client_of, error):
    client = client_of(make_persona("alice"))
    with mock.patch.object(CursorWrapper, "execute", side_effect=error):
        response = client.get("/desk/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"briefly unavailable" in response.content
    assert b"Traceback" not in response.content
    assert client.get("/desk/").status_code == 200  # and it works again


def test_the_api_answers_503_as_json(client_of):
    client = client_of(make_persona("alice"))
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("gone")):
        response = client.get("/api/v1/incidents/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "unavailable" in response.json()["detail"]
    assert client.get("/api/v1/incidents/").status_code == 200


def test_other_errors_stay_500(client_of):
    client = client_of(make_persona("alice"))
    with mock.patch.object(CursorWrapper, "execute", side_effect=ZeroDivisionError):
        response = client.get("/desk/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
