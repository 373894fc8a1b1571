"""Who gets what from every catalog route: the API, the desk, the editor and the portal pages
(SPEC §1, §8).

One table, read by ``itsm.testing.PermissionMatrix``: every route of the catalog, every method,
every kind of caller. In the scene rita (the requester) reports to max (a manager): her laptop
waits for his approval; her headset needed none and has its task open for the Service Desk
(alice's team). End users reach only their own requests (another's is a 404, never a 403)
and have no task area (403); the change and problem managers read requests and tasks but do
not work them (403); only the assigned approver decides, never the requester.
"""

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import update_user
from catalog import services
from itsm.testing import PermissionMatrix, expect, make_persona, make_team, row

from .conftest import make_category, make_item, order

# --- Statuses that repeat

CSV = {"format": "csv"}  # a list asked for as CSV (itsm.exports)
EVERYONE = expect(401, end_users=200, staff=200)
EDITORS = expect(401, end_users=403, staff=403, manager=200, admin=200)
API_READ = expect(401, requester=200, other_user=404, cab_member=404, staff=200)
API_CREATE = expect(401, requester=201, other_user=404, cab_member=404, staff=201)
API_WORK = expect(
    401,
    requester=403,
    other_user=404,
    cab_member=404,
    staff=200,
    change_manager=403,
    problem_manager=403,
)
TASKS_READ = expect(401, end_users=403, staff=200)
TASKS_COMMENT = expect(401, end_users=403, staff=201)
TASKS_WORK = expect(401, end_users=403, staff=200, change_manager=403, problem_manager=403)
DESK_READ = expect(302, end_users=403, staff=200)
DESK_WORK = expect(302, end_users=403, staff=302, change_manager=403, problem_manager=403)
DESK_COMMENT = expect(302, end_users=403, staff=302)
EDITOR_PAGE = expect(302, end_users=403, staff=403, manager=200, admin=200)
EDITOR_SAVE = expect(302, end_users=403, staff=403, manager=302, admin=302)
PORTAL = expect(302, end_users=200, staff=200)
PORTAL_REQUEST = expect(302, requester=200, other_user=404, cab_member=404, staff=200)
PORTAL_ACTION = expect(302, requester=302, other_user=404, cab_member=404, staff=302)


def pending(scene):
    return {"number": scene.pending.number}


def approved(scene):
    return {"number": scene.approved.number}


def task(scene):
    return {"number": scene.task.number}


def request_file(scene):
    return {"number": scene.approved.number, "attachment_id": scene.file.pk}


def task_file(scene):
    return {"number": scene.task.number, "attachment_id": scene.task_file.pk}


def a_file(scene=None):
    return {"file": SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt")}


def portal_files(scene=None):
    return {"attachments": [SimpleUploadedFile("photo.png", b"\x89PNG\r\n")]}


def item_values(name):
    def body(scene):
        return {
            "name": name,
            "category": scene.category.pk,
            "icon": "box",
            "order": 1,
            "approval": "none",
            "fulfillment_team": scene.desk.pk,
            "active": "on",
            "fields-TOTAL_FORMS": 0,
            "fields-INITIAL_FORMS": 0,
            "tasks-TOTAL_FORMS": 0,
            "tasks-INITIAL_FORMS": 0,
        }

    return body


class TestCatalogPermissions(PermissionMatrix):
    owns = ("catalog:", "api:catalog-", "api:requests-", "api:tasks-")

    def scene(self):
        rita, alice, max_ = make_persona("rita"), make_persona("alice"), make_persona("max")
        desk = make_team("Service Desk", members=[alice], lead=alice)
        make_team("Network", members=[make_persona("bob")])
        update_user(rita, {"manager": max_}, actor=None)
        rita.refresh_from_db()
        category = make_category()
        laptop = make_item(
            "Laptop",
            category=category,
            approval="manager",
            fulfillment_team=desk,
            form=[{"name": "model", "label": "Model", "type": "text", "required": True}],
        )
        headset = make_item("Headset", category=category, fulfillment_team=desk, form=[])
        spare = make_item("Spare", category=category, fulfillment_team=desk, form=[])
        empty = make_category("Empty")
        waiting = order(laptop, by=rita, answers={"model": "14-inch"})
        done = order(headset, by=rita, answers={})
        the_task = done.tasks.get()
        file = services.attach(done, actor=rita, upload=a_file()["file"])
        task_file = services.attach_task(the_task, actor=alice, upload=a_file()["file"])
        services.comment(done, actor=alice, body="Checking stock.", internal=True)
        return SimpleNamespace(
            pending=waiting,
            approved=done,
            task=the_task,
            file=file,
            task_file=task_file,
            category=category,
            empty_category=empty,
            laptop=laptop,
            headset=headset,
            spare=spare,
            desk=desk,
            agent=alice,
        )

    rows = [
        # --- API: the catalog
        row("api:catalog-categories-list", "GET", EVERYONE),
        row(
            "api:catalog-categories-list",
            "POST",
            {**EDITORS, "manager": 201, "admin": 201},
            body={"name": "Access"},
        ),
        row(
            "api:catalog-categories-detail",
            "GET",
            EVERYONE,
            args=lambda scene: {"pk": scene.category.pk},
        ),
        row(
            "api:catalog-categories-detail",
            "PATCH",
            EDITORS,
            args=lambda scene: {"pk": scene.category.pk},
            body={"summary": "Laptops, screens and headsets"},
        ),
        row(
            "api:catalog-categories-detail",
            "DELETE",
            {**EDITORS, "manager": 204, "admin": 204},
            args=lambda scene: {"pk": scene.empty_category.pk},
        ),
        row("api:catalog-items-list", "GET", EVERYONE),
        row(
            "api:catalog-items-list",
            "POST",
            {**EDITORS, "manager": 201, "admin": 201},
            body=lambda scene: {
                "category": scene.category.pk,
                "name": "Docking station",
                "fulfillment_team": scene.desk.pk,
                "form": [{"name": "desk", "label": "Desk", "type": "text"}],
            },
        ),
        row(
            "api:catalog-items-detail", "GET", EVERYONE, args=lambda scene: {"pk": scene.laptop.pk}
        ),
        row(
            "api:catalog-items-detail",
            "PATCH",
            EDITORS,
            args=lambda scene: {"pk": scene.laptop.pk},
            body={"summary": "A new laptop"},
        ),
        row(
            "api:catalog-items-detail",
            "DELETE",
            {**EDITORS, "manager": 204, "admin": 204},
            args=lambda scene: {"pk": scene.spare.pk},
        ),
        # --- API: requests
        row("api:requests-list", "GET", EVERYONE),
        row(
            "api:requests-list",
            "POST",
            expect(401, end_users=201, staff=201),
            body=lambda scene: {"item": scene.headset.pk, "answers": {}},
        ),
        row("api:requests-detail", "GET", API_READ, args=pending),
        row(
            "api:requests-detail",
            "PATCH",
            {**API_WORK, "requester": 200},  # the requester rewords their note
            args=pending,
            body={"description": "The blue one, please."},
        ),
        row(
            "api:requests-transition",
            "POST",
            {**API_WORK, "requester": 200},  # the requester cancels their own request
            args=pending,
            body={"state": "canceled"},
        ),
        row("api:requests-approvals", "GET", API_READ, args=pending),
        # Only the assigned approver decides: the requester never, admins neither.
        row(
            "api:requests-approvals",
            "POST",
            expect(401, requester=403, other_user=404, cab_member=404, staff=403, manager=200),
            args=pending,
            body={"decision": "approve", "comment": "Fine."},
        ),
        row("api:requests-comments", "GET", API_READ, args=approved),
        row("api:requests-comments", "POST", API_CREATE, args=approved, body={"body": "Any news?"}),
        row("api:requests-attachments", "GET", API_READ, args=approved),
        row(
            "api:requests-attachments",
            "POST",
            API_CREATE,
            args=approved,
            body=a_file,
            format="multipart",
        ),
        row("api:requests-attachment-download", "GET", API_READ, args=request_file),
        row(
            "api:requests-attachment-download",
            "PATCH",  # staff choose who sees a file
            expect(401, requester=403, other_user=404, cab_member=404, staff=200),
            args=request_file,
            body={"internal": False},
        ),
        row("api:requests-history", "GET", API_READ, args=approved),
        row("api:requests-sla", "GET", expect(401, end_users=403, staff=200), args=approved),
        row(
            "api:requests-watch",
            "POST",
            expect(401, requester=403, other_user=404, cab_member=404, staff=200),
            args=approved,
        ),
        # --- API: tasks (the desk's: no task area for end users)
        row("api:tasks-list", "GET", TASKS_READ),
        row(
            "api:tasks-list",
            "POST",
            {**TASKS_WORK, "agent": 201, "other_agent": 201, "manager": 201, "admin": 201},
            body=lambda scene: {"request": scene.approved.number, "title": "Pair it"},
        ),
        row("api:tasks-detail", "GET", TASKS_READ, args=task),
        row("api:tasks-detail", "PATCH", TASKS_WORK, args=task, body={"title": "Deliver it"}),
        row("api:tasks-transition", "POST", TASKS_WORK, args=task, body={"state": "in_progress"}),
        row("api:tasks-comments", "GET", TASKS_READ, args=task),
        row("api:tasks-comments", "POST", TASKS_COMMENT, args=task, body={"body": "In stock."}),
        row("api:tasks-attachments", "GET", TASKS_READ, args=task),
        row(
            "api:tasks-attachments",
            "POST",
            TASKS_COMMENT,
            args=task,
            body=a_file,
            format="multipart",
        ),
        row("api:tasks-attachment-download", "GET", TASKS_READ, args=task_file),
        row(
            "api:tasks-attachment-download",
            "PATCH",
            TASKS_READ,
            args=task_file,
            body={"internal": False},
        ),
        row("api:tasks-history", "GET", TASKS_READ, args=task),
        # --- The desk: requests
        row("catalog:request_list", "GET", DESK_READ),
        row("catalog:request_list", "GET", DESK_READ, body=CSV),  # the whole list as CSV
        row("catalog:request_detail", "GET", DESK_READ, args=pending),
        row(
            "catalog:request_update",
            "POST",
            DESK_WORK,
            args=approved,
            body=lambda scene: {"assignment_group": scene.desk.pk, "assignee": scene.agent.pk},
            format="form",
        ),
        row(
            "catalog:request_state",
            "POST",
            DESK_WORK,
            args=pending,
            body={"state": "canceled", "reason": "Duplicate."},
            format="form",
        ),
        row(
            "catalog:request_decide",
            "POST",
            {**DESK_WORK, "agent": 403, "other_agent": 403, "admin": 403, "manager": 302},
            args=pending,
            body={"decision": "approve"},
            format="form",
        ),
        row(
            "catalog:request_add_task",
            "POST",
            DESK_WORK,
            args=approved,
            body={"title": "Pair it"},
            format="form",
        ),
        row(
            "catalog:request_comment",
            "POST",
            DESK_COMMENT,
            args=approved,
            body={"body": "On its way."},
            format="form",
        ),
        row(
            "catalog:request_attach",
            "POST",
            DESK_COMMENT,
            args=approved,
            body=a_file,
            format="multipart",
        ),
        row("catalog:request_attachment", "GET", DESK_READ, args=request_file),
        # --- The desk: tasks and approvals
        row("catalog:task_list", "GET", DESK_READ),
        row("catalog:task_list", "GET", DESK_READ, body=CSV),
        row("catalog:task_detail", "GET", DESK_READ, args=task),
        row(
            "catalog:task_update",
            "POST",
            DESK_WORK,
            args=task,
            body=lambda scene: {"assignment_group": scene.desk.pk, "assignee": scene.agent.pk},
            format="form",
        ),
        row("catalog:task_take", "POST", DESK_WORK, args=task, format="form"),
        row(
            "catalog:task_state",
            "POST",
            DESK_WORK,
            args=task,
            body={"state": "done", "note": "Handed over."},
            format="form",
        ),
        row(
            "catalog:task_comment",
            "POST",
            DESK_COMMENT,
            args=task,
            body={"body": "Ordered from the supplier."},
            format="form",
        ),
        row(
            "catalog:task_attach", "POST", DESK_COMMENT, args=task, body=a_file, format="multipart"
        ),
        row("catalog:task_attachment", "GET", DESK_READ, args=task_file),
        row("catalog:approval_list", "GET", DESK_READ),
        # --- The catalog editor
        row("catalog:item_list", "GET", EDITOR_PAGE),
        row("catalog:item_add", "GET", EDITOR_PAGE),
        row("catalog:item_add", "POST", EDITOR_SAVE, body=item_values("Webcam"), format="form"),
        row("catalog:item_edit", "GET", EDITOR_PAGE, args=lambda scene: {"pk": scene.spare.pk}),
        row(
            "catalog:item_edit",
            "POST",
            EDITOR_SAVE,
            args=lambda scene: {"pk": scene.spare.pk},
            body=item_values("Spare part"),
            format="form",
        ),
        row(
            "catalog:item_delete",
            "POST",
            EDITOR_SAVE,
            args=lambda scene: {"pk": scene.spare.pk},
            format="form",
        ),
        row("catalog:category_add", "GET", EDITOR_PAGE),
        row(
            "catalog:category_add",
            "POST",
            EDITOR_SAVE,
            body={"name": "Access", "icon": "key", "order": 2, "active": "on"},
            format="form",
        ),
        row(
            "catalog:category_edit",
            "GET",
            EDITOR_PAGE,
            args=lambda scene: {"pk": scene.category.pk},
        ),
        row(
            "catalog:category_edit",
            "POST",
            EDITOR_SAVE,
            args=lambda scene: {"pk": scene.category.pk},
            body={"name": "Hardware", "icon": "laptop", "order": 1, "active": "on"},
            format="form",
        ),
        row(
            "catalog:category_delete",
            "POST",
            EDITOR_SAVE,
            args=lambda scene: {"pk": scene.empty_category.pk},
            format="form",
        ),
        # --- The portal
        row("catalog:portal_catalog", "GET", PORTAL),
        row(
            "catalog:portal_category",
            "GET",
            PORTAL,
            args=lambda scene: {"slug": scene.category.slug},
        ),
        row("catalog:portal_item", "GET", PORTAL, args=lambda scene: {"slug": scene.headset.slug}),
        row(
            "catalog:portal_item",
            "POST",
            expect(302, end_users=302, staff=302),
            args=lambda scene: {"slug": scene.headset.slug},
            body={"description": "For calls."},
            format="form",
        ),
        row("catalog:portal_request_list", "GET", PORTAL),
        row("catalog:portal_request_list", "GET", PORTAL, body=CSV),  # own requests only
        row("catalog:portal_request_detail", "GET", PORTAL_REQUEST, args=pending),
        row(
            "catalog:portal_request_comment",
            "POST",
            PORTAL_ACTION,
            args=approved,
            body={"body": "Thanks!"},
            format="form",
        ),
        row(
            "catalog:portal_request_attach",
            "POST",
            PORTAL_ACTION,
            args=approved,
            body=portal_files,
            format="multipart",
        ),
        row("catalog:portal_attachment", "GET", PORTAL_REQUEST, args=request_file),
        row("catalog:portal_request_cancel", "GET", PORTAL_REQUEST, args=pending),
        row("catalog:portal_request_cancel", "POST", PORTAL_ACTION, args=pending, format="form"),
        # A refused decision is a message on the request's page (302); someone else's is a 404.
        row(
            "catalog:portal_request_decide",
            "POST",
            PORTAL_ACTION,
            args=pending,
            body={"decision": "approve"},
            format="form",
        ),
        row("catalog:portal_approvals", "GET", PORTAL),
    ]
