"""Who gets what from the kernel's routes: the home page, the health check, the API schema and
docs, and the notifications API (SPEC §1, §9, §11).

One table, read by ``itsm.testing.PermissionMatrix``. The home page sends each signed-in
person to where their work is (and anonymous visitors to sign in). The health check answers
anyone, without authentication, for load balancers and monitors. The OpenAPI schema and its
interactive docs describe the product, not its data: they are public, as the clients that
read them expect. Notifications are each person's own: everyone signed in lists and marks
theirs; another person's notification is a 404 (it does not exist for them), anonymous
callers get a 401.
"""

from types import SimpleNamespace

from itsm.models import Notification
from itsm.testing import PermissionMatrix, expect, make_incident, make_persona, row

# --- Statuses that repeat

PUBLIC = expect(200)
OWN = expect(401, end_users=200, staff=200)  # the caller's own notifications


def ritas_notification(scene):
    return {"pk": scene.notification.pk}


class TestKernelPermissions(PermissionMatrix):
    owns = (
        "home",
        "health",
        "api-schema",
        "api-docs",
        "api:notification-list",
        "api:notification-read",  # and -read-all
    )

    def scene(self):
        rita = make_persona("rita")
        incident = make_incident(requester=rita, actor=rita)  # acknowledged to rita
        notification = Notification.objects.get(recipient=rita, ticket=incident.number)
        return SimpleNamespace(notification=notification)

    rows = [
        row("home", "GET", expect(302)),  # to sign in, or to the caller's own area
        row("health", "GET", PUBLIC),
        row("api-schema", "GET", PUBLIC),
        row("api-docs", "GET", PUBLIC),
        row("api:notification-list", "GET", OWN),
        row("api:notification-list", "GET", OWN, body={"unread": "1"}),
        row(
            "api:notification-read",
            "POST",
            expect(401, requester=200, other_user=404, cab_member=404, staff=404),
            args=ritas_notification,
        ),
        row("api:notification-read-all", "POST", OWN),
    ]
