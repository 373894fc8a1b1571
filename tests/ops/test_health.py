"""GET /health/ (SPEC §11): no login, never cached; 200 while the database answers (the broker is
reported), 503 when it does not."""

import socket
from unittest import mock

import pytest
from django.db import OperationalError, connection

from itsm.celery import app as celery_app

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A local port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_never_cached(response):
    cache_control = response["Cache-Control"]
    for directive in ("no-cache", "no-store", "must-revalidate", "max-age=0"):
        assert directive in cache_control


def test_it_answers_ok_without_a_login(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert_never_cached(response)


def test_it_reports_an_unreachable_broker_but_still_answers_200(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "error"}
    assert_never_cached(response)


def test_it_answers_503_when_the_database_does_not_answer(client):
    refused = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with mock.patch.object(connection, "cursor", side_effect=refused) as cursor:
        response = client.get("/health/")

    assert cursor.called
    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "error", "broker": "ok"}
    assert_never_cached(response)


def test_it_is_down_when_both_the_database_and_the_broker_fail(client, monkeypatch):
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")

    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "down", "database": "error", "broker": "error"}


def test_it_only_answers_get(client):
    response = client.post("/health/")

    assert response.status_code == 405
