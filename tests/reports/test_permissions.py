"""Who gets what from every reports route (SPEC §1, §10, §11): managers and admins only.

One table read by ``itsm.testing.PermissionMatrix``. The pages send anonymous visitors to sign
in and answer every other role 403 (end users, agents, CAB members, change and problem
managers alike); the API answers 401 without credentials and 403 to those roles, before any
lookup. For managers a CI that is not a business service, or no CI, is a 404.
"""

from types import SimpleNamespace

from cmdb.models import CI, CIClass
from itsm.testing import PermissionMatrix, expect, row

OWNERS = ("manager", "admin")


def page(status: int) -> dict[str, int]:
    return expect(302, end_users=403, staff=403, **dict.fromkeys(OWNERS, status))


def api(status: int) -> dict[str, int]:
    return expect(401, end_users=403, staff=403, **dict.fromkeys(OWNERS, status))


def service(scene):
    return {"pk": scene.service.pk}


def server(scene):
    return {"pk": scene.server.pk}


def missing(scene):
    return {"pk": 999_999}


def ci_class(name: str) -> CIClass:
    return CIClass.objects.get_or_create(name=name, defaults={"label": name.title()})[0]


PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


class TestReportPermissions(PermissionMatrix):
    owns = ("reports:", "api:reports-")

    def scene(self):
        classes = {name: ci_class(name) for name in ("business_service", "server")}
        return SimpleNamespace(
            service=CI.objects.create(name="E-mail", ci_class=classes["business_service"]),
            server=CI.objects.create(name="mail-01", ci_class=classes["server"]),
        )

    rows = [
        # --- Pages
        row("reports:home", "GET", page(200)),
        row("reports:home", "GET", page(200), body={**PERIOD, "format": "csv", "table": "trend"}),
        row("reports:home", "GET", page(404), body={"format": "csv", "table": "nothing"}),
        row("reports:service_review", "GET", page(200), args=service),
        row("reports:service_review", "GET", page(200), args=service, body={"format": "csv"}),
        row("reports:service_review", "GET", page(404), args=server),
        row("reports:service_review", "GET", page(404), args=missing),
        # --- API
        row("api:reports-sla", "GET", api(200), body={**PERIOD, "group_by": "team"}),
        row("api:reports-sla", "GET", api(400), body={"group_by": "colour"}),
        row("api:reports-incidents", "GET", api(200), body=PERIOD),
        row("api:reports-incidents", "GET", api(200), body={"format": "csv"}),
        row("api:reports-incidents", "GET", api(400), body={"from": "yesterday"}),
        row("api:reports-trend", "GET", api(200)),
        row("api:reports-changes", "GET", api(200)),
        row("api:reports-problems", "GET", api(200)),
        row("api:reports-requests", "GET", api(200)),
        row("api:reports-service-review", "GET", api(200), args=service, body=PERIOD),
        row("api:reports-service-review", "GET", api(404), args=server),
        row("api:reports-service-review", "GET", api(404), args=missing),
    ]
