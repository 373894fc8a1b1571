"""Who gets what from the notification centre, its API and the approval links (SPEC §1).

Everyone signed in has a notification centre and preferences of their own; another person's
notification is a 404. Approval links need no sign-in: the signed link names the approver,
and everyone, signed in or not, gets the same page for the same link.
"""

from types import SimpleNamespace

import pytest

from itsm import approvals
from itsm.extensions import _approval_actions, approval_action
from itsm.models import Notification
from itsm.testing import PermissionMatrix, expect, make_incident, make_persona, row

PAGE = expect(302, end_users=200, staff=200)  # anonymous: to the sign-in page
ACTION = expect(302, end_users=302, staff=302)
API = expect(401, end_users=200, staff=200)
OWN_ONLY = expect(404, anonymous=302, requester=302)  # rita's notification
OWN_ONLY_API = expect(404, anonymous=401, requester=200)
LINK = expect(200)  # the token is the credential


def own(scene):
    return {"pk": scene.notification.pk}


def link(scene):
    return {"token": scene.token}


def forged(scene):
    return {"token": scene.token[:-5] + "AAAAA"}


class TestNotificationPermissions(PermissionMatrix):
    owns = ("notifications:", "approvals:", "api:notification-preferences")

    @pytest.fixture(autouse=True)
    def _approval_verb(self):
        approval_action("incidents.Incident")(lambda incident, **kwargs: None)
        yield
        _approval_actions.pop("incidents.incident", None)

    def scene(self):
        rita, alice = make_persona("rita"), make_persona("alice")
        incident = make_incident(requester=rita)
        notification = Notification.objects.filter(recipient=rita).first()
        token = approvals.make_token(f"incidents.incident:{incident.pk}", alice, "approve")
        return SimpleNamespace(notification=notification, token=token)

    rows = [
        # --- pages
        row("notifications:list", "GET", PAGE),
        row("notifications:read", "POST", OWN_ONLY, args=own, format="form"),
        row("notifications:read_all", "POST", ACTION, format="form"),
        row("notifications:preferences", "GET", PAGE),
        row(
            "notifications:preferences",
            "POST",
            ACTION,
            body={"comment-in_app": "on"},
            format="form",
        ),
        # --- approval links
        row("approvals:link", "GET", LINK, args=link),
        row("approvals:link", "POST", LINK, args=link, body={"comment": "ok"}, format="form"),
        row("approvals:link", "GET", expect(404), args=forged),
        row("approvals:link", "POST", expect(404), args=forged, format="form"),
        # --- API
        row("api:notification-list", "GET", API),
        row("api:notification-read", "POST", OWN_ONLY_API, args=own),
        row("api:notification-read-all", "POST", API),
        row("api:notification-preferences", "GET", API),
        row(
            "api:notification-preferences",
            "PATCH",
            API,
            body=[{"kind": "comment", "email": False}],
        ),
        row(
            "api:notification-preferences",
            "PUT",
            API,
            body=[{"kind": "state", "in_app": False}],
        ),
    ]
