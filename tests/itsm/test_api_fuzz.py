"""Schemathesis over the whole OpenAPI schema (``/api/v1/schema/``), in-process through the WSGI
app, as an end user and as an agent: whatever it sends, no answer is a 5xx, and every answer
has the content type and the body the schema documents.

The example count per operation is bounded (``FUZZ_EXAMPLES``, 8 by default) so the run takes a
few minutes; raise it locally to search harder (``FUZZ_EXAMPLES=100``)."""

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from itsm.testing import make_incident, make_persona, make_team

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


def load_schema():
    """The schema the API serves (``/api/v1/schema/``), built the way its view builds it, with
    calls going to the WSGI app in-process."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from itsm.wsgi import application

    raw = SchemaGenerator().get_schema(request=None, public=True)
    # The coverage phase alone sends hundreds of boundary cases per operation, whatever
    # max_examples says: off, so that a bounded run takes minutes.
    config = schemathesis.Config.from_dict(
        {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
    )
    loaded = schemathesis.openapi.from_dict(
        json.loads(OpenApiJsonRenderer().render(raw)), config=config
    )
    loaded.app = application
    return loaded


schema = load_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the requests keep the test's database connection (it
    holds the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def scene(db, settings):
    """A desk with one of each thing the paths name, so some examples reach real objects."""
    settings.DEBUG = False
    alice = make_persona("alice")
    make_team("Service Desk", members=[alice])
    rita = make_persona("rita")
    make_incident(requester=rita)
    make_incident(actor=alice, assignee=alice)
    return {"agent": alice, "end_user": rita}


def token_of(user) -> dict:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZ
def test_the_api_as_an_agent(case, scene):
    case.call_and_validate(headers=token_of(scene["agent"]), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_the_api_as_an_end_user(case, scene):
    case.call_and_validate(headers=token_of(scene["end_user"]), checks=CHECKS)
