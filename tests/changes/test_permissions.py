"""Who gets what from every change route: the pages and the API (SPEC §1, §6).

One table, read by ``itsm.testing.PermissionMatrix``. End users get a 403 for the whole area;
CAB members, problem managers and managers read changes and comment; agents and change
managers work them; change managers alone keep templates, blackout windows and boards; only
the approver named on an approval votes on it (someone else's approval is a 404 on the page, a
403 through the API, where the caller has no vote of their own).
"""

from datetime import timedelta
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from changes import services
from itsm.testing import PermissionMatrix, expect, make_persona, make_team, row

from .builders import PLANS, make_change, make_ci, submitted, window

WORKERS = ("agent", "other_agent", "change_manager", "admin")
READERS_ONLY = ("cab_member", "problem_manager", "manager")
END_USERS = {"requester": 403, "other_user": 403}


def api(ok: int, *, allowed=WORKERS, others: int = 403) -> dict:
    """Signed-out 401, end users 403, ``allowed`` get ``ok``, the other readers ``others``."""
    table = expect(401, **END_USERS, cab_member=others, staff=others)
    table.update(dict.fromkeys(allowed, ok))
    return table


def page(ok: int, *, allowed=WORKERS, others: int = 403) -> dict:
    """Signed-out: to the login page (302); end users 403."""
    table = expect(302, **END_USERS, cab_member=others, staff=others)
    table.update(dict.fromkeys(allowed, ok))
    return table


EVERY_READER = (*WORKERS, *READERS_ONLY)
API_READ = api(200, allowed=EVERY_READER)
API_COMMENT = api(201, allowed=EVERY_READER)
CSV = {"format": "csv"}  # a list asked for as CSV (itsm.exports)
PAGE_READ = page(200, allowed=EVERY_READER)
PAGE_ACTION = page(302, allowed=EVERY_READER)
MANAGERS = ("change_manager", "admin")


def number(scene):
    return {"number": scene.change.number}


def voting(scene):
    return {"number": scene.voting.number}


def attachment(scene):
    return {"number": scene.change.number, "attachment_id": scene.file.pk}


def a_file(scene=None):
    return {"file": SimpleUploadedFile("runbook.txt", b"1. drain\n2. patch\n")}


def iso(moment):
    return moment.isoformat()


def local(moment):
    return moment.strftime("%Y-%m-%dT%H:%M")


class TestChangePermissions(PermissionMatrix):
    owns = ("changes:", "api:changes-", "api:change-templates-", "api:blackouts-")

    def scene(self):
        chris, carol = make_persona("chris"), make_persona("carol")
        cab = make_team("CAB", members=[carol])
        make_team("Network", members=[make_persona("bob")])
        services.save_board(cab, actor=None)
        server = make_ci("srv-matrix-01")
        change = make_change(actor=chris, cab=cab, cis=[server])
        file = services.attach(change, actor=chris, upload=a_file()["file"])
        voting_change = submitted(actor=chris, cab=cab, cis=[make_ci("srv-matrix-02")])
        template = services.save_template(
            None, {"name": "Reboot a print server", **PLANS}, actor=None
        )
        start, end = window(days=40)
        blackout = services.save_blackout(
            None, {"name": "Audit week", "start": start, "end": end}, actor=None
        )
        return SimpleNamespace(
            change=change,
            voting=voting_change,
            file=file,
            template=template,
            blackout=blackout,
            board=cab.board,
            carol=carol,
            server=server,
            approval=voting_change.approvals.get(approver=carol),
        )

    rows = [
        # --- API: changes
        row("api:changes-list", "GET", API_READ),
        row(
            "api:changes-list",
            "POST",
            api(201),
            body={"title": "Swap a disk", "type": "normal", **PLANS},
        ),
        row("api:changes-detail", "GET", API_READ, args=number),
        row("api:changes-detail", "PATCH", api(200), args=number, body={"title": "Reworded"}),
        row(
            "api:changes-transition",
            "POST",
            api(200),
            args=number,
            body={"state": "assess"},
        ),
        row("api:changes-comments", "GET", API_READ, args=number),
        row("api:changes-comments", "POST", API_COMMENT, args=number, body={"body": "When?"}),
        row("api:changes-attachments", "GET", API_READ, args=number),
        row(
            "api:changes-attachments",
            "POST",
            API_COMMENT,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("api:changes-attachment-download", "GET", API_READ, args=attachment),
        row(
            "api:changes-attachment-download",
            "PATCH",  # staff choose who sees a file
            {**API_READ, "cab_member": 403},  # a reader, but not staff
            args=attachment,
            body={"internal": False},
        ),
        row("api:changes-history", "GET", API_READ, args=number),
        row("api:changes-approvals", "GET", API_READ, args=voting),
        # only carol has an approval on it: everyone else has no vote (403)
        row(
            "api:changes-approvals",
            "POST",
            {**api(403, allowed=()), "cab_member": 200},
            args=voting,
            body={"decision": "approve", "comment": "Fine."},
        ),
        row("api:changes-conflicts", "GET", API_READ, args=number),
        # --- API: templates and blackouts (change managers write)
        row("api:change-templates-list", "GET", API_READ),
        row(
            "api:change-templates-list",
            "POST",
            api(201, allowed=MANAGERS),
            body={"name": "Add a DNS record", **PLANS},
        ),
        row(
            "api:change-templates-detail",
            "GET",
            API_READ,
            args=lambda scene: {"pk": scene.template.pk},
        ),
        row(
            "api:change-templates-detail",
            "PATCH",
            api(200, allowed=MANAGERS),
            args=lambda scene: {"pk": scene.template.pk},
            body={"duration_minutes": 20},
        ),
        row(
            "api:change-templates-detail",
            "DELETE",
            api(204, allowed=MANAGERS),
            args=lambda scene: {"pk": scene.template.pk},
        ),
        row("api:blackouts-list", "GET", API_READ),
        row(
            "api:blackouts-list",
            "POST",
            api(201, allowed=MANAGERS),
            body=lambda scene: {
                "name": "Quarter close",
                "start": iso(scene.blackout.start + timedelta(days=10)),
                "end": iso(scene.blackout.end + timedelta(days=11)),
                "cis": [scene.server.pk],
            },
        ),
        row(
            "api:blackouts-detail",
            "GET",
            API_READ,
            args=lambda scene: {"pk": scene.blackout.pk},
        ),
        row(
            "api:blackouts-detail",
            "PATCH",
            api(200, allowed=MANAGERS),
            args=lambda scene: {"pk": scene.blackout.pk},
            body={"name": "Audit fortnight"},
        ),
        row(
            "api:blackouts-detail",
            "DELETE",
            api(204, allowed=MANAGERS),
            args=lambda scene: {"pk": scene.blackout.pk},
        ),
        # --- Pages
        row("changes:home", "GET", PAGE_READ),
        row("changes:change_list", "GET", PAGE_READ),
        row("changes:change_list", "GET", PAGE_READ, body=CSV),  # the whole list as CSV
        row("changes:change_lookup", "GET", PAGE_READ, body={"change": "CHG"}),
        row("changes:change_add", "GET", page(200)),
        row(
            "changes:change_add",
            "POST",
            page(302),
            body={"type": "normal", "title": "Swap a disk", "implementation_plan": "swap"},
            format="form",
        ),
        row("changes:change_detail", "GET", PAGE_READ, args=number),
        row(
            "changes:change_update",
            "POST",
            page(302),
            args=number,
            body={"title": "Reworded", "type": "normal"},
            format="form",
        ),
        row(
            "changes:change_state",
            "POST",
            page(302),
            args=number,
            body={"state": "assess"},
            format="form",
        ),
        row(
            "changes:change_comment",
            "POST",
            PAGE_ACTION,
            args=number,
            body={"body": "Can it wait a week?"},
            format="form",
        ),
        row(
            "changes:change_attach",
            "POST",
            PAGE_ACTION,
            args=number,
            body=a_file,
            format="multipart",
        ),
        row("changes:change_recheck", "POST", PAGE_ACTION, args=number, format="form"),
        row("changes:change_attachment", "GET", PAGE_READ, args=attachment),
        row("changes:my_approvals", "GET", PAGE_READ),
        # someone else's approval is not found: nobody votes in another's name
        row(
            "changes:approval_vote",
            "POST",
            {**page(404, allowed=EVERY_READER), "cab_member": 302},
            args=lambda scene: {"approval_id": scene.approval.pk},
            body={"decision": "approve"},
            format="form",
        ),
        row("changes:cab_agenda", "GET", PAGE_READ),
        row("changes:change_calendar", "GET", PAGE_READ, body={"view": "week"}),
        row(
            "changes:success_rate",
            "GET",
            page(200, allowed=("change_manager", "manager", "admin")),
        ),
        row("changes:board_list", "GET", PAGE_READ),
        row(
            "changes:board_add",
            "POST",
            page(302, allowed=MANAGERS),
            body=lambda scene: {"team": make_team("Network").pk, "policy": "majority"},
            format="form",
        ),
        row(
            "changes:board_update",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"board_id": scene.board.pk},
            body={"policy": "any"},
            format="form",
        ),
        row(
            "changes:board_member_add",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"board_id": scene.board.pk},
            body={"member": "paula"},
            format="form",
        ),
        row(
            "changes:board_member_remove",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"board_id": scene.board.pk, "user_id": scene.carol.pk},
            format="form",
        ),
        row("changes:template_list", "GET", PAGE_READ),
        row("changes:template_add", "GET", page(200, allowed=MANAGERS)),
        row(
            "changes:template_add",
            "POST",
            page(302, allowed=MANAGERS),
            body={"name": "Flush a DNS cache", "duration_minutes": 10, **PLANS},
            format="form",
        ),
        row(
            "changes:template_update",
            "GET",
            page(200, allowed=MANAGERS),
            args=lambda scene: {"template_id": scene.template.pk},
        ),
        row(
            "changes:template_update",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"template_id": scene.template.pk},
            body={"name": "Reboot a print server", "duration_minutes": 15, **PLANS},
            format="form",
        ),
        row(
            "changes:template_delete",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"template_id": scene.template.pk},
            format="form",
        ),
        row("changes:blackout_list", "GET", PAGE_READ),
        row("changes:blackout_add", "GET", page(200, allowed=MANAGERS)),
        row(
            "changes:blackout_add",
            "POST",
            page(302, allowed=MANAGERS),
            body=lambda scene: {
                "name": "Inventory",
                "start": local(scene.blackout.start + timedelta(days=20)),
                "end": local(scene.blackout.start + timedelta(days=21)),
            },
            format="form",
        ),
        row(
            "changes:blackout_update",
            "GET",
            page(200, allowed=MANAGERS),
            args=lambda scene: {"blackout_id": scene.blackout.pk},
        ),
        row(
            "changes:blackout_update",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"blackout_id": scene.blackout.pk},
            body=lambda scene: {
                "name": "Audit week (extended)",
                "start": local(scene.blackout.start),
                "end": local(scene.blackout.end + timedelta(days=2)),
            },
            format="form",
        ),
        row(
            "changes:blackout_delete",
            "POST",
            page(302, allowed=MANAGERS),
            args=lambda scene: {"blackout_id": scene.blackout.pk},
            format="form",
        ),
    ]
