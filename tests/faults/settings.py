"""The production settings (DEBUG off) for the fault tests' gunicorn, with static files served
from the packages instead of a collectstatic manifest (which takes longer than the test)."""

from itsm.settings import *  # noqa: F403
from itsm.settings import STORAGES

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
