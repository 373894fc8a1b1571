"""Who gets what from every CMDB route: the pages and the API (SPEC §1, §7).

One table, read by ``itsm.testing.PermissionMatrix``: every route of ``cmdb`` and of the CMDB
API, every method, every kind of caller. The CMDB is staff ground: end users and anyone whose
only role is CAB member get a 403 for the whole area (pages and API alike), anonymous visitors
are sent to sign in (pages) or told to authenticate (API, 401). Inside the area every reader
(agents, change and problem managers, managers, admins) sees every CI, so a CI that does not
exist is the only 404. Agents (and admins) write CIs and relationships; the other readers get
a 403 for any write. Admins alone manage the classes and import CSV files.
"""

from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile

from cmdb import services
from cmdb.models import CIClass
from itsm.testing import PermissionMatrix, expect, make_persona, make_team, row

WRITERS = ("agent", "other_agent", "admin")  # every agent writes the CMDB, whatever their team

# --- Statuses that repeat

# Pages: sign in first; then the area is open to readers, a 403 for everyone else.
CSV = {"format": "csv"}  # a list asked for as CSV (itsm.exports)
PAGE_READ = expect(302, end_users=403, staff=200)


def page_write(status: int) -> dict[str, int]:
    """A page that writes: agents and admins get ``status``, other readers a 403."""
    return expect(302, end_users=403, staff=403, **dict.fromkeys(WRITERS, status))


def page_admin(status: int) -> dict[str, int]:
    return expect(302, end_users=403, staff=403, admin=status)


API_READ = expect(401, end_users=403, staff=200)
# Inside the area, a missing object is a 404; outside it, the area's 403 comes first.
API_MISSING = expect(401, end_users=403, staff=404)
PAGE_MISSING = expect(302, end_users=403, staff=404)


def api_write(status: int) -> dict[str, int]:
    return expect(401, end_users=403, staff=403, **dict.fromkeys(WRITERS, status))


def api_admin(status: int) -> dict[str, int]:
    return expect(401, end_users=403, staff=403, admin=status)


# --- Addresses and bodies


def server(scene):
    return {"pk": scene.server.pk}


def service(scene):
    return {"pk": scene.service.pk}


def missing(scene):
    return {"pk": 999_999}


def relationship(scene):
    return {"pk": scene.relationship.pk}


def spare_class(scene):
    return {"pk": scene.spare_class.pk}


def ci_form(scene):
    return {
        "name": "srv-new-01",
        "ci_class": scene.classes["server"].pk,
        "status": "in_service",
        "environment": "production",
        "criticality": 3,
        "attributes": "{}",
    }


def ci_edit_form(scene):
    return {**ci_form(scene), "name": "srv-mail-01", "version": scene.server.version}


def csv_file(scene=None):
    content = "name,ci_class,status\nsrv-imported-01,server,in_service\n"
    return {"file": SimpleUploadedFile("cis.csv", content.encode()), "dry_run": ""}


class TestCMDBPermissions(PermissionMatrix):
    owns = ("cmdb:", "api:cmdb-")

    def scene(self):
        alice = make_persona("alice")
        make_team("Service Desk", members=[alice], lead=alice)
        make_team("Network", members=[make_persona("bob")])
        classes = {c.name: c for c in CIClass.objects.all()}

        def ci(ci_class, name, **attributes):
            return services.create_ci(
                actor=None, name=name, ci_class=classes[ci_class], attributes=attributes
            )

        mail = ci("business_service", "Email", service_hours="24x7", tier="gold")
        app = ci("application", "Exchange", version="2019")
        host = ci("server", "srv-mail-01", hostname="srv-mail-01")
        spare = ci("server", "srv-spare-01")
        services.relate(mail, app, "depends_on", actor=None)
        runs_on = services.relate(app, host, "runs_on", actor=None)
        empty = services.save_class(
            None, {"name": "printer", "label": "Printer", "attribute_schema": {}}, actor=None
        )
        return SimpleNamespace(
            classes=classes,
            service=mail,
            app=app,
            server=host,
            spare=spare,
            relationship=runs_on,
            spare_class=empty,
        )

    rows = [
        # --- API: classes (admins manage them)
        row("api:cmdb-class-list", "GET", API_READ),
        row(
            "api:cmdb-class-list",
            "POST",
            api_admin(201),
            body={"name": "firewall", "label": "Firewall", "attribute_schema": {}},
        ),
        row("api:cmdb-class-detail", "GET", API_READ, args=spare_class),
        row(
            "api:cmdb-class-detail",
            "PATCH",
            api_admin(200),
            args=spare_class,
            body={"label": "Printers"},
        ),
        row("api:cmdb-class-detail", "DELETE", api_admin(204), args=spare_class),
        # --- API: CIs (agents write)
        row("api:cmdb-ci-list", "GET", API_READ),
        row(
            "api:cmdb-ci-list",
            "POST",
            api_write(201),
            body={"name": "db-01", "ci_class": "database", "attributes": {"engine": "mysql"}},
        ),
        row("api:cmdb-ci-detail", "GET", API_READ, args=server),
        row("api:cmdb-ci-detail", "GET", API_MISSING, args=missing),
        row(
            "api:cmdb-ci-detail",
            "PATCH",
            api_write(200),
            args=server,
            body={"supplier": "Dell"},
        ),
        row("api:cmdb-ci-impact", "GET", API_READ, args=server),
        row("api:cmdb-ci-dependencies", "GET", API_READ, args=service),
        row("api:cmdb-ci-history", "GET", API_READ, args=server),
        row("api:cmdb-ci-retire", "POST", api_write(200), args=server),
        # --- API: relationships (agents write; created and deleted, never edited)
        row("api:cmdb-relationship-list", "GET", API_READ),
        row(
            "api:cmdb-relationship-list",
            "POST",
            api_write(201),
            body=lambda scene: {
                "source": scene.spare.pk,
                "type": "connects_to",
                "target": scene.server.pk,
            },
        ),
        row("api:cmdb-relationship-detail", "GET", API_READ, args=relationship),
        row("api:cmdb-relationship-detail", "DELETE", api_write(204), args=relationship),
        # --- Pages
        row("cmdb:home", "GET", expect(302, end_users=403, staff=302)),  # to the CI list
        row("cmdb:ci_list", "GET", PAGE_READ),
        row("cmdb:ci_list", "GET", PAGE_READ, body=CSV),  # the export, from the list
        row("cmdb:ci_detail", "GET", PAGE_READ, args=server),
        row("cmdb:ci_detail", "GET", PAGE_MISSING, args=missing),
        row("cmdb:service_list", "GET", PAGE_READ),
        row("cmdb:service_detail", "GET", PAGE_READ, args=service),
        row("cmdb:service_detail", "GET", PAGE_MISSING, args=server),  # not a service
        row("cmdb:ci_lookup", "GET", PAGE_READ, body={"other": "srv"}),
        row("cmdb:ci_export", "GET", PAGE_READ),
        row("cmdb:ci_add", "GET", page_write(200)),
        row("cmdb:ci_add", "POST", page_write(302), body=ci_form, format="form"),
        row("cmdb:ci_edit", "GET", page_write(200), args=server),
        row("cmdb:ci_edit", "POST", page_write(302), args=server, body=ci_edit_form, format="form"),
        row("cmdb:ci_retire", "POST", page_write(302), args=server, format="form"),
        row(
            "cmdb:relationship_add",
            "POST",
            page_write(302),
            args=server,
            body=lambda scene: {
                "direction": "incoming",
                "type": "connects_to",
                "other": f"#{scene.spare.pk}",
            },
            format="form",
        ),
        row(
            "cmdb:relationship_delete",
            "POST",
            page_write(302),
            args=lambda scene: {"pk": scene.server.pk, "relationship_id": scene.relationship.pk},
            format="form",
        ),
        row("cmdb:ci_import", "GET", page_admin(200)),
        row("cmdb:ci_import", "POST", page_admin(200), body=csv_file, format="form"),
    ]
