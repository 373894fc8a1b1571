"""Who gets what from every problem route: the pages, the API and the knowledge search
(SPEC §1, §5).

One table, read by ``itsm.testing.PermissionMatrix``. The problems area is for agents,
problem managers and managers; end users, CAB members and change managers get a 403 for all of
it (a whole area they may not use), and a problem that does not exist is a 404 for those who
may enter. Agents link incidents and comment; problem managers also open, change, move and
publish; managers read and comment. The knowledge search answers every signed-in user.
"""

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from itsm.testing import PermissionMatrix, expect, make_incident, make_persona, make_team, row
from problems import services
from problems.candidates import Window, groups
from problems.workflow import State

# --- Statuses that repeat

# Pages: log in first; the area is closed to end users, CAB members and change managers.
CSV = {"format": "csv"}  # a list asked for as CSV (itsm.exports)
PAGE_READ = expect(302, end_users=403, staff=200, change_manager=403)
PAGE_READ_ACTION = expect(302, end_users=403, staff=302, change_manager=403)
# Actions only problem managers (and admins) take: the verb refuses the other readers.
PAGE_MANAGE = expect(
    302,
    end_users=403,
    staff=403,
    change_manager=403,
    problem_manager=302,
    admin=302,
)
# Linking: agents and problem managers; managers read.
PAGE_LINK = {**PAGE_READ_ACTION, "manager": 403}
API_READ = expect(401, end_users=403, staff=200, change_manager=403)
API_MANAGE = expect(
    401, end_users=403, staff=403, change_manager=403, problem_manager=200, admin=200
)
API_CREATE = {**API_MANAGE, "problem_manager": 201, "admin": 201}
API_COMMENT = expect(401, end_users=403, staff=201, change_manager=403)
API_LINK = {**API_COMMENT, "manager": 403}
API_UNLINK = {**expect(401, end_users=403, staff=204, change_manager=403), "manager": 403}
# A problem that does not exist: 404 inside the area, the area's 403 outside it.
READERS = ("agent", "other_agent", "problem_manager", "manager", "admin")
API_MISSING = {**API_READ, **dict.fromkeys(READERS, 404)}
PAGE_MISSING = {**PAGE_READ, **dict.fromkeys(READERS, 404)}


def number(scene):
    return {"number": scene.problem.number}


def missing(scene):
    return {"number": "PRB9999999"}


def attachment(scene):
    return {"number": scene.problem.number, "attachment_id": scene.file.pk}


def linked(scene):
    return {"number": scene.problem.number, "incident": scene.linked.number}


def cluster(scene):
    return {"kind": "title", "key": scene.cluster}


def a_file(scene=None):
    return {"file": SimpleUploadedFile("trace.log", b"tunnel down at 08:12\n")}


class TestProblemPermissions(PermissionMatrix):
    owns = ("problems:", "api:problems-", "api:known-errors-")

    def scene(self):
        rita, alice, paula = make_persona("rita"), make_persona("alice"), make_persona("paula")
        make_team("Service Desk", members=[alice], lead=alice)
        make_team("Network", members=[make_persona("bob")])
        problem = services.open_problem(
            actor=paula,
            title="VPN drops every ten minutes",
            workaround="Use the TCP 443 connection.",
            known_error=True,
        )
        services.change_state(problem, State.ASSESS, actor=paula)
        services.change_state(problem, State.ROOT_CAUSE_ANALYSIS, actor=paula)
        linked = make_incident(requester=rita, title="VPN drops at home")
        services.link(problem, linked, actor=alice)
        services.comment(problem, actor=alice, body="Seen at Lyon too.")
        file = services.attach(problem, actor=alice, upload=a_file()["file"])
        free = make_incident(requester=rita, title="VPN disconnects again")
        for _ in range(2):
            make_incident(requester=rita, title="VPN disconnects again")
        [group] = groups("title", Window.of(30), min_count=3)
        return SimpleNamespace(
            problem=problem, linked=linked, free=free, file=file, cluster=group.key
        )

    rows = [
        # --- API
        row("api:problems-list", "GET", API_READ),
        row("api:problems-list", "POST", API_CREATE, body={"title": "Printer jams on duplex"}),
        row("api:problems-detail", "GET", API_READ, args=number),
        row("api:problems-detail", "GET", API_MISSING, args=missing),
        row("api:problems-detail", "PATCH", API_MANAGE, args=number, body={"priority": 2}),
        row(
            "api:problems-transition",
            "POST",
            API_MANAGE,
            args=number,
            body={"state": "fix_in_progress"},
        ),
        row("api:problems-comments", "GET", API_READ, args=number),
        row("api:problems-comments", "POST", API_COMMENT, args=number, body={"body": "+1"}),
        row("api:problems-attachments", "GET", API_READ, args=number),
        row(
            "api:problems-attachments",
            "POST",
            API_COMMENT,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("api:problems-attachment-download", "GET", API_READ, args=attachment),
        row(
            "api:problems-attachment-download",
            "PATCH",  # readers of problems choose who sees a file (staff only)
            API_READ,
            args=attachment,
            body={"internal": False},
        ),
        row("api:problems-history", "GET", API_READ, args=number),
        row("api:problems-incidents", "GET", API_READ, args=number),
        row(
            "api:problems-incidents",
            "POST",
            API_LINK,
            args=number,
            body=lambda scene: {"incident": scene.free.number},
        ),
        row("api:problems-incident-unlink", "DELETE", API_UNLINK, args=linked),
        row(
            "api:problems-promote",
            "POST",
            # the requester sees their incident but may not open problems; another end user
            # may not even see it
            expect(
                401,
                requester=403,
                other_user=404,
                cab_member=404,
                staff=403,
                problem_manager=201,
                admin=201,
            ),
            args=lambda scene: {"number": scene.free.number},
        ),
        row("api:known-errors-list", "GET", expect(401, end_users=200, staff=200)),
        # --- Pages
        row("problems:home", "GET", PAGE_READ),
        row("problems:problem_list", "GET", PAGE_READ),
        row("problems:problem_list", "GET", PAGE_READ, body=CSV),  # the whole list as CSV
        row("problems:problem_add", "GET", {**PAGE_MANAGE, "problem_manager": 200, "admin": 200}),
        row(
            "problems:problem_add",
            "POST",
            PAGE_MANAGE,
            body={"title": "Printer jams on duplex", "priority": 3},
            format="form",
        ),
        row("problems:candidate_list", "GET", PAGE_READ),
        row("problems:candidate_incidents", "GET", PAGE_READ, args=cluster),
        row(
            "problems:candidate_create",
            "POST",
            PAGE_MANAGE,
            body=lambda scene: {"kind": "title", "key": scene.cluster, "days": 30, "title": "VPN"},
            format="form",
        ),
        row("problems:problem_detail", "GET", PAGE_READ, args=number),
        row("problems:problem_detail", "GET", PAGE_MISSING, args=missing),
        row(
            "problems:problem_update",
            "POST",
            PAGE_MANAGE,
            args=number,
            body=lambda scene: {
                "title": "VPN drops every ten minutes at home",
                "priority": 2,
                "workaround": "Use the TCP 443 connection.",
                "known_error": "on",
                "version": scene.problem.version,
            },
            format="form",
        ),
        row(
            "problems:problem_state",
            "POST",
            PAGE_MANAGE,
            args=number,
            body={"state": "fix_in_progress"},
            format="form",
        ),
        row(
            "problems:problem_resolve",
            "POST",
            PAGE_MANAGE,
            args=number,
            body={
                "root_cause": "Gateway timers.",
                "resolve_incidents": "on",
                "resolution_code": "fixed",
                "resolution_notes": "Timers aligned.",
            },
            format="form",
        ),
        row(
            "problems:problem_publish",
            "POST",
            PAGE_MANAGE,
            args=number,
            body={"publish": "1"},
            format="form",
        ),
        row(
            "problems:problem_link",
            "POST",
            PAGE_LINK,
            args=number,
            body=lambda scene: {"incident": scene.free.number},
            format="form",
        ),
        row(
            "problems:problem_unlink",
            "POST",
            PAGE_LINK,
            args=number,
            body=lambda scene: {"incident": scene.linked.number},
            format="form",
        ),
        row(
            "problems:problem_comment",
            "POST",
            PAGE_READ_ACTION,
            args=number,
            body={"body": "Same at Lyon."},
            format="form",
        ),
        row(
            "problems:problem_attach",
            "POST",
            PAGE_READ_ACTION,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("problems:problem_attachment", "GET", PAGE_READ, args=attachment),
    ]
