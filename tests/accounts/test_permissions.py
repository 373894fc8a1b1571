"""Who gets what from every accounts route: sign-in, sign-out, the language switch, the person
type-ahead and the ``users/``, ``teams/`` and ``auth/token/`` API (SPEC §1, §11).

One table, read by ``itsm.testing.PermissionMatrix``. Signing in, signing out, switching the
language and asking for an API token are open to every caller (a token needs the right
password, whoever asks). The directory is staff ground: staff read people and teams (assignee
pickers, the person type-ahead), end users and CAB-only members get a 403 for the whole area
(they never see other users' data), anonymous callers a 401 (API) or the sign-in page. Only
admins create, change and deactivate users and teams. Everyone signed in reads and edits their
own profile (``users/me/``), never their roles or teams.
"""

import uuid
from types import SimpleNamespace

from rest_framework.authtoken.models import Token

from accounts.models import User
from itsm.testing import (
    PASSWORD,
    PermissionMatrix,
    expect,
    make_persona,
    make_team,
    make_user,
    row,
)

# --- Statuses that repeat

OPEN = expect(302)  # a form that always redirects, whoever sends it
SIGNED_IN = expect(401, end_users=200, staff=200)  # the caller's own profile
DIRECTORY = expect(401, end_users=403, staff=200)
DIRECTORY_MISSING = expect(401, end_users=403, staff=404)


def admin_only(status: int) -> dict[str, int]:
    return expect(401, end_users=403, staff=403, admin=status)


# --- Addresses and bodies


def someone(scene):
    return {"pk": scene.someone.pk}


def team(scene):
    return {"pk": scene.team.pk}


def spare_team(scene):
    return {"pk": scene.spare_team.pk}


def missing(scene):
    return {"pk": 999_999}


def fresh_address(scene):
    """Each caller asks for tokens from an address of its own: the sign-in limits (per
    address) are not what these rows test."""
    return {"REMOTE_ADDR": scene.address}


class TestAccountsPermissions(PermissionMatrix):
    owns = (
        "login",
        "logout",
        "set_language",
        "time_zone",
        "person_lookup",
        "api:user-",
        "api:team-",
        "api:auth-token",
        "api:user-me-token",
    )

    def scene(self):
        someone = make_user("zed", first_name="Zed", last_name="Someone")
        desk = make_team("Service Desk", members=[make_persona("alice")])
        spare = make_team("Printers")
        address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
        for user in User.objects.all():  # everyone has an API token to read or revoke
            Token.objects.get_or_create(user=user)
        return SimpleNamespace(someone=someone, team=desk, spare_team=spare, address=address)

    rows = [
        # --- API: tokens (no session needed; the password decides)
        row(
            "api:auth-token",
            "POST",
            expect(200),
            body={"username": "rita", "password": PASSWORD},
            environ=fresh_address,
        ),
        row(
            "api:auth-token",
            "POST",
            expect(400),
            body={"username": "rita", "password": "not-her-password"},
            environ=fresh_address,
        ),
        # --- API: users
        row("api:user-list", "GET", DIRECTORY),
        row(
            "api:user-list",
            "POST",
            admin_only(201),
            body={
                "username": "newbie",
                "email": "newbie@example.com",
                "roles": ["agent"],
                "password": "Another-long-passphrase-71",
            },
        ),
        row("api:user-detail", "GET", DIRECTORY, args=someone),
        row("api:user-detail", "GET", DIRECTORY_MISSING, args=missing),
        row("api:user-detail", "PATCH", admin_only(200), args=someone, body={"phone": "+33 1"}),
        row("api:user-detail", "DELETE", admin_only(204), args=someone),  # deactivates
        row("api:user-me", "GET", SIGNED_IN),
        row("api:user-me", "PATCH", SIGNED_IN, body={"phone": "+33 1 23 45 67 89"}),
        row(
            "api:user-me",
            "PATCH",
            expect(401, end_users=400, staff=400),  # roles are an admin's to give
            body={"roles": ["admin"]},
        ),
        row("api:user-me-token", "GET", SIGNED_IN),
        row("api:user-me-token", "DELETE", expect(401, end_users=204, staff=204)),
        # --- API: teams
        row("api:team-list", "GET", DIRECTORY),
        row("api:team-list", "POST", admin_only(201), body={"name": "Database"}),
        row("api:team-detail", "GET", DIRECTORY, args=team),
        row("api:team-detail", "GET", DIRECTORY_MISSING, args=missing),
        row(
            "api:team-detail",
            "PATCH",
            admin_only(200),
            args=team,
            body={"description": "First line"},
        ),
        row("api:team-detail", "DELETE", admin_only(204), args=spare_team),
        # --- Pages
        row("login", "GET", expect(302, anonymous=200)),  # signed in: straight home
        row(
            "login",
            "POST",
            OPEN,
            body={"username": "rita", "password": PASSWORD},
            format="form",
        ),
        row(
            "set_language",
            "POST",
            OPEN,
            body={"language": "fr", "next": "/portal/"},
            format="form",
        ),
        # Everyone signed in chooses the time zone they read times in.
        row("time_zone", "GET", expect(200, anonymous=302)),
        row(
            "time_zone",
            "POST",
            expect(302),
            body={"time_zone": "Europe/Paris"},
            format="form",
        ),
        row(
            "person_lookup",
            "GET",
            expect(302, end_users=403, staff=200),
            body={"requester": "rit"},
        ),
        # Last: it ends the caller's session.
        row("logout", "POST", OPEN, format="form"),
    ]
