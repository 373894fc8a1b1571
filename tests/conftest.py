import pytest
from rest_framework.test import APIClient

from itsm.celery import app as celery_app
from itsm.testing import PASSWORD, make_persona, make_team
from tests.browser import (  # noqa: F401  (browser fixtures and hook, shared by every folder)
    browser,
    demo_users,
    login,
    new_page,
    page,
    pytest_runtest_makereport,
    screenshot,
)


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process unless a test talks to a real worker (marked ``live_celery``)."""
    if request.node.get_closest_marker("live_celery"):
        yield
        return
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path):
    """Attachments and mail go to a per-test directory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "attachments")},
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def persona(db):
    return make_persona


@pytest.fixture
def rita(db):
    return make_persona("rita")


@pytest.fixture
def eve(db):
    return make_persona("eve")


@pytest.fixture
def alice(db):
    user = make_persona("alice")
    make_team("Service Desk", members=[user])
    return user


@pytest.fixture
def bob(db):
    user = make_persona("bob")
    make_team("Network", members=[user])
    return user


@pytest.fixture
def carol(db):
    return make_persona("carol")


@pytest.fixture
def max_(db):
    return make_persona("max")


@pytest.fixture
def ada(db):
    return make_persona("ada")


@pytest.fixture
def api():
    """An API client; ``api.as_(user)`` authenticates it as ``user``."""

    class Client(APIClient):
        def as_(self, user):
            self.force_authenticate(user=user)
            return self

    return Client()


@pytest.fixture
def password():
    return PASSWORD
