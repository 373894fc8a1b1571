"""Who gets what from every incident route: the desk, the portal and the API (SPEC §1).

One table, read by ``itsm.testing.PermissionMatrix``: every route of ``incidents``, ``portal``
and the incident API, every method, every kind of caller. End users reach only their own
tickets (another's is a 404, never a 403); readers who may not work incidents (change and
problem managers) read and comment but get a 403 for the rest; the CAB member alone is an end
user here.
"""

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from itsm.testing import PermissionMatrix, expect, make_incident, make_team, row
from problems import services as problem_services

# --- Statuses that repeat

CSV = {"format": "csv"}  # a list asked for as CSV (itsm.exports)
API_READ = expect(401, requester=200, other_user=404, cab_member=404, staff=200)
API_COMMENT = expect(401, requester=201, other_user=404, cab_member=404, staff=201)
# Working an incident: agents and managers; change and problem managers read only.
API_WORK = expect(
    401,
    requester=403,
    other_user=404,
    cab_member=404,
    staff=200,
    change_manager=403,
    problem_manager=403,
)
DESK_READ = expect(302, end_users=403, staff=200)
DESK_WORK_PAGE = expect(302, end_users=403, staff=200, change_manager=403, problem_manager=403)
DESK_WORK = expect(302, end_users=403, staff=302, change_manager=403, problem_manager=403)
DESK_COMMENT = expect(302, end_users=403, staff=302)
PORTAL = expect(302, requester=200, other_user=200, cab_member=200, staff=200)
PORTAL_TICKET = expect(302, requester=200, other_user=404, cab_member=404, staff=200)
# A portal action redirects back to the ticket, done or refused with a message.
PORTAL_ACTION = expect(302, requester=302, other_user=404, cab_member=404, staff=302)


def number(scene):
    return {"number": scene.incident.number}


def resolved(scene):
    return {"number": scene.resolved.number}


def attachment(scene):
    return {"number": scene.incident.number, "attachment_id": scene.file.pk}


def a_file(scene=None):
    return {"file": SimpleUploadedFile("trace.log", b"boot failed at 08:12\n")}


def portal_files(scene=None):
    return {"attachments": [SimpleUploadedFile("photo.png", b"\x89PNG\r\n")]}


class TestIncidentPermissions(PermissionMatrix):
    owns = ("incidents:", "portal:", "api:incidents-")

    def scene(self):
        from itsm.testing import make_persona

        rita, alice = make_persona("rita"), make_persona("alice")
        desk = make_team("Service Desk", members=[alice], lead=alice)
        make_team("Network", members=[make_persona("bob")])
        incident = make_incident(requester=rita, actor=rita)
        services.assign(incident, actor=alice, group=desk)
        services.comment(incident, actor=alice, body="Looking into it.")
        services.comment(incident, actor=alice, body="Vendor case V-1.", internal=True)
        file = services.attach(incident, actor=rita, upload=a_file()["file"])
        done = make_incident(requester=rita, actor=rita, title="Printer jam")
        services.resolve(done, actor=alice, code="fixed", notes="Cleared the jam.")
        known = problem_services.open_problem(
            actor=make_persona("paula"),
            title="VPN drops every ten minutes",
            workaround="Use the TCP 443 connection.",
            known_error=True,
            publish_workaround=True,
        )
        return SimpleNamespace(
            incident=incident, resolved=done, file=file, team=desk, known_error=known
        )

    rows = [
        # --- API
        row("api:incidents-list", "GET", expect(401, end_users=200, staff=200)),
        row(
            "api:incidents-list",
            "POST",
            expect(401, end_users=201, staff=201),
            body={"title": "VPN drops", "description": "Every hour."},
        ),
        row("api:incidents-detail", "GET", API_READ, args=number),
        row(
            "api:incidents-detail",
            "PATCH",
            {**API_WORK, "requester": 200},  # a requester rewords their own open incident
            args=number,
            body={"title": "VPN drops every hour"},
        ),
        row(
            "api:incidents-transition",
            "POST",
            API_WORK,
            args=number,
            body={"state": "in_progress"},
        ),
        row(
            "api:incidents-transition",
            "POST",
            {**API_WORK, "requester": 200},  # the requester cancels their own new incident
            args=number,
            body={"state": "canceled"},
        ),
        row("api:incidents-comments", "GET", API_READ, args=number),
        row("api:incidents-comments", "POST", API_COMMENT, args=number, body={"body": "Any news?"}),
        row("api:incidents-attachments", "GET", API_READ, args=number),
        row(
            "api:incidents-attachments",
            "POST",
            API_COMMENT,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("api:incidents-attachment-download", "GET", API_READ, args=attachment),
        row(
            "api:incidents-attachment-download",
            "PATCH",
            # staff choose who sees a file; the requester's own upload stays public (400)
            expect(401, requester=403, other_user=404, cab_member=404, staff=400),
            args=attachment,
            body={"internal": True},
        ),
        row("api:incidents-history", "GET", API_READ, args=number),
        row(
            "api:incidents-rating",
            "POST",
            expect(401, requester=200, other_user=404, cab_member=404, staff=403),
            args=resolved,
            body={"score": 5},
        ),
        row(
            "api:incidents-watch",
            "POST",
            expect(401, requester=403, other_user=404, cab_member=404, staff=200),
            args=number,
        ),
        row("api:incidents-sla", "GET", expect(401, end_users=403, staff=200), args=number),
        # --- The desk
        row("incidents:incident_list", "GET", DESK_READ),
        row("incidents:incident_list", "GET", DESK_READ, body=CSV),  # the whole list as CSV
        row("incidents:incident_add", "GET", DESK_WORK_PAGE),
        row(
            "incidents:incident_caller",
            "GET",
            DESK_WORK_PAGE,
            body={"requester": "rita"},
        ),
        row(
            "incidents:incident_add",
            "POST",
            DESK_WORK,
            body=lambda scene: {
                "requester": "rita",
                "title": "Caller cannot log in",
                "impact": 2,
                "urgency": 2,
            },
            format="form",
        ),
        row(
            "incidents:incident_bulk",
            "POST",
            DESK_WORK,
            body=lambda scene: {"numbers": scene.incident.number, "action": "take"},
            format="form",
        ),
        row("incidents:incident_detail", "GET", DESK_READ, args=number),
        row(
            "incidents:incident_update",
            "POST",
            DESK_WORK,
            args=number,
            body=lambda scene: {
                "title": "Reworded",
                "impact": 3,
                "urgency": 3,
                "assignment_group": scene.team.pk,
                "version": scene.incident.version,
            },
            format="form",
        ),
        row("incidents:incident_take", "POST", DESK_WORK, args=number, format="form"),
        row(
            "incidents:incident_hold",
            "POST",
            DESK_WORK,
            args=number,
            body={"hold_reason": "awaiting_caller"},
            format="form",
        ),
        row(
            "incidents:incident_resolve",
            "POST",
            DESK_WORK,
            args=number,
            body={"resolution_code": "fixed", "resolution_notes": "Reset the token."},
            format="form",
        ),
        row(
            "incidents:incident_state",
            "POST",
            DESK_WORK,
            args=number,
            body={"state": "in_progress"},
            format="form",
        ),
        row(
            "incidents:incident_comment",
            "POST",
            DESK_COMMENT,
            args=number,
            body={"body": "Called the user back."},
            format="form",
        ),
        row(
            "incidents:incident_attach",
            "POST",
            DESK_COMMENT,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("incidents:incident_attachment", "GET", DESK_READ, args=attachment),
        row(
            "incidents:incident_attachment_visibility",
            "POST",
            DESK_COMMENT,
            args=attachment,
            body={"internal": "0"},
            format="form",
        ),
        # --- The incident's problem (agents and problem managers link; problem managers
        # promote; every reader sees what matches it)
        row(
            "incidents:incident_link_problem",
            "POST",
            {**DESK_WORK, "problem_manager": 302, "manager": 403},
            args=number,
            body=lambda scene: {"problem": scene.known_error.number},
            format="form",
        ),
        row(
            "incidents:incident_promote",
            "POST",
            expect(302, end_users=403, staff=403, problem_manager=302, admin=302),
            args=number,
            format="form",
        ),
        row("incidents:incident_suggestions", "GET", DESK_READ, args=number),
        # --- The portal
        row("portal:home", "GET", PORTAL),
        row("portal:report", "GET", PORTAL),
        row(
            "portal:report",
            "POST",
            expect(302, end_users=302, staff=302),
            body={"title": "Screen flickers", "description": "Since Monday.", "urgency": 2},
            format="form",
        ),
        row("portal:report_suggestions", "GET", PORTAL, body={"title": "VPN drops"}),
        row("portal:knowledge", "GET", PORTAL, body={"q": "VPN"}),
        row("portal:knowledge", "GET", PORTAL, body={"q": "VPN", **CSV}),
        row(
            "portal:known_error",
            "GET",
            PORTAL,
            args=lambda scene: {"number": scene.known_error.number},
        ),
        row("portal:ticket_list", "GET", PORTAL),
        row("portal:ticket_list", "GET", PORTAL, body=CSV),  # each caller's own tickets only
        row("portal:ticket_detail", "GET", PORTAL_TICKET, args=number),
        row(
            "portal:ticket_comment",
            "POST",
            PORTAL_ACTION,
            args=number,
            body={"body": "Still broken."},
            format="form",
        ),
        row(
            "portal:ticket_attach",
            "POST",
            PORTAL_ACTION,
            args=number,
            body=portal_files,
            format="multipart",
        ),
        row("portal:attachment_download", "GET", PORTAL_TICKET, args=attachment),
        row("portal:ticket_confirm", "POST", PORTAL_ACTION, args=resolved, format="form"),
        row(
            "portal:ticket_reopen",
            "POST",
            PORTAL_ACTION,
            args=resolved,
            body={"reason": "It jammed again."},
            format="form",
        ),
        # GET asks for confirmation (the requester), or redirects with the refusal (staff).
        row(
            "portal:ticket_cancel",
            "GET",
            {**PORTAL_ACTION, "requester": 200},
            args=number,
        ),
        row("portal:ticket_cancel", "POST", PORTAL_ACTION, args=number, format="form"),
        row(
            "portal:ticket_rate",
            "POST",
            PORTAL_ACTION,
            args=resolved,
            body={"score": 4},
            format="form",
        ),
    ]
