"""Hostile input for every text field: an XSS corpus and a desk whose records carry it.

``CORPUS`` holds what people paste or attackers type: script tags, event-handler attributes,
``javascript:`` and ``data:`` URLs, ``<style>``/``<textarea>`` that would swallow a page, SVG,
Markdown link and image tricks, template syntax. Every payload that would run calls
``alert("xss-…")``, so a browser test that fails on any dialog sees it.

``build_hostile_desk(users)`` writes, through the service verbs, one record per payload of each
kind (incident, problem, change, CI, catalog category and item, request, task) with the payload
as its title or name and the whole corpus in every long text field (descriptions, comments,
internal notes, plans, CI attributes, item form labels and answers), and gives the demo users
hostile display names. It returns the URLs of the pages to look at.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

CORPUS = [
    '<script>alert("xss-script")</script>',
    '<img src=x onerror=alert("xss-img")>',
    '<svg onload=alert("xss-svg")>',
    '"><b onmouseover=alert("xss-attr") autofocus onfocus=alert("xss-focus")>hover</b>',
    "'><a href=javascript:alert('xss-js')>click</a>",
    "<style>body{display:none}</style>",
    "<textarea>",
    '</textarea></title><script>alert("xss-close")</script>',
    '[click me](javascript:alert("xss-md-link"))',
    "![pixel](https://tracker.example.com/pixel.gif)",
    "![x](x\" onerror=\"alert('xss-md-img'))",
    "<iframe src=\"javascript:alert('xss-iframe')\"></iframe>",
    "{{ 7|add:7 }} {% debug %} ${7*7} #{7*7}",
    '<a href="data:text/html,<script>alert(1)</script>">data</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'xss-meta\')">',
    '<base href="https://evil.example.com/">',
    '<form action="https://evil.example.com/"><button>go</button></form>',
    '&lt;script&gt;alert("xss-entity")&lt;/script&gt;',
]
# The long text fields get them all at once.
EVERYTHING = "\n\n".join(CORPUS)
# Display names (first/last name: at most 150 characters each).
HOSTILE_FIRST = '<svg onload=alert("xss-name")>'
HOSTILE_LAST = '"><script>alert("xss-last")</script>'


@dataclass
class HostileDesk:
    incidents: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    cis: list = field(default_factory=list)
    items: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    tasks: list = field(default_factory=list)

    def desk_pages(self) -> list[str]:
        """Staff pages: lists with every payload as a title, details with the whole corpus."""
        incident, problem, change = self.incidents[0], self.problems[0], self.changes[0]
        ci, item, request, task = self.cis[0], self.items[0], self.requests[0], self.tasks[0]
        return [
            "/desk/",
            f"/desk/incidents/{incident.number}/",
            f"/desk/incidents/{self.incidents[7].number}/",
            "/desk/incidents/new/",
            "/problems/",
            f"/problems/{problem.number}/",
            "/problems/candidates/",
            "/changes/list/",
            f"/changes/{change.number}/",
            "/changes/calendar/",
            "/changes/cab/",
            "/changes/approvals/",
            "/changes/success/",
            "/changes/templates/",
            "/changes/boards/",
            "/cmdb/cis/",
            f"/cmdb/cis/{ci.pk}/",
            f"/cmdb/cis/{ci.pk}/edit/",
            "/cmdb/services/",
            "/sla/",
            "/sla/policies/",
            "/sla/calendars/",
            "/desk/requests/",
            f"/desk/requests/{request.number}/",
            "/desk/tasks/",
            f"/desk/tasks/{task.number}/",
            "/desk/approvals/",
            "/catalog/",
            f"/catalog/items/{item.pk}/",
            "/notifications/",
            "/notifications/preferences/",
            "/reports/",
            *self.review_pages(),
        ]

    def review_pages(self) -> list[str]:
        """The service review of a business service (the demo estate's first)."""
        from cmdb.models import CI

        service = CI.objects.services().order_by("pk").first()
        return [f"/reports/services/{service.pk}/"] if service else []

    def portal_pages(self) -> list[str]:
        incident, request, item = self.incidents[0], self.requests[0], self.items[0]
        return [
            "/portal/",
            "/portal/tickets/",
            f"/portal/tickets/{incident.number}/",
            f"/portal/tickets/{self.incidents[7].number}/",
            "/portal/report/",
            "/portal/knowledge/",
            "/portal/catalog/",
            f"/portal/catalog/{item.category.slug}/",
            f"/portal/order/{item.slug}/",
            "/portal/requests/",
            f"/portal/requests/{request.number}/",
            "/notifications/",
        ]


def hostile_names(users) -> None:
    from accounts.services import update_user

    for user in users.values():
        update_user(user, {"first_name": HOSTILE_FIRST, "last_name": HOSTILE_LAST}, actor=None)


def build_hostile_desk(users) -> HostileDesk:
    """Hostile records, written as each role would (``users``: the demo logins by username)."""
    from accounts.models import Team
    from catalog import services as catalog
    from changes import services as changes
    from cmdb import services as cmdb
    from cmdb.classes import ensure_default_classes
    from cmdb.models import CIClass
    from incidents import services as incidents
    from problems import services as problems
    from sla.demo import seed_demo as seed_sla

    enduser, agent = users["enduser"], users["agent"]
    desk = Team.objects.get(name="Service Desk")
    cab = Team.objects.get(name="CAB")
    changes.save_board(cab, actor=None, policy="all")
    seed_sla()  # one policy per priority: tickets show their SLA timers
    built = HostileDesk()
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    ensure_default_classes(CIClass)  # (a live-server test's flush removed the seeded ones)
    application = CIClass.objects.get(name="application")
    for n, payload in enumerate(CORPUS):
        ci = cmdb.create_ci(
            actor=users["admin"],
            name=f"{payload} {n}",
            ci_class=application,
            supplier=payload,
            description=EVERYTHING,
            attributes={"vendor": payload, "licence": payload},
        )
        built.cis.append(ci)
        incident = incidents.open_incident(
            actor=enduser, requester=enduser, title=payload, description=EVERYTHING
        )
        built.incidents.append(incident)
        built.problems.append(
            problems.open_problem(
                actor=users["problemmgr"],
                title=payload,
                description=EVERYTHING,
                workaround=EVERYTHING,
                root_cause=EVERYTHING,
            )
        )
        built.changes.append(
            changes.raise_change(
                actor=users["changemgr"],
                title=payload,
                description=EVERYTHING,
                implementation_plan=EVERYTHING,
                backout_plan=EVERYTHING,
                test_plan=EVERYTHING,
                planned_start=start + timedelta(hours=3 * n),
                planned_end=start + timedelta(hours=3 * n + 2),
                cis=[ci],
                cab=cab,
            )
        )
        category = catalog.save_category(
            None,
            {"name": f"{payload} {n}", "summary": payload, "description": EVERYTHING},
            actor=users["admin"],
        )
        item = catalog.save_item(
            None,
            {
                "category": category,
                "name": f"{payload} {n}",
                "summary": payload,
                "description": EVERYTHING,
                "approval": "none",
                "fulfillment_team": desk,
                "tasks": [{"title": payload, "description": EVERYTHING, "team": desk.pk}],
                "form": [
                    {
                        "name": "why",
                        "label": payload,
                        "type": "textarea",
                        "help_text": payload,
                    },
                    {
                        "name": "kind",
                        "label": payload,
                        "type": "choice",
                        "choices": [{"value": "a", "label": payload}],
                    },
                ],
            },
            actor=users["admin"],
        )
        built.items.append(item)
        request = catalog.order(
            actor=enduser,
            item=item,
            answers={"why": EVERYTHING, "kind": "a"},
            description=EVERYTHING,
        )
        built.requests.append(request)
        built.tasks.extend(request.tasks.all())
    for ticket in (built.incidents[0], built.incidents[7]):
        incidents.assign(ticket, actor=agent, assignee=agent, group=desk)
        incidents.comment(ticket, actor=agent, body=EVERYTHING)
        incidents.comment(ticket, actor=agent, body=EVERYTHING, internal=True)
        incidents.comment(ticket, actor=enduser, body=EVERYTHING)
    catalog.comment(built.requests[0], actor=agent, body=EVERYTHING)
    catalog.comment_task(built.tasks[0], actor=agent, body=EVERYTHING)
    problems.comment(built.problems[0], actor=users["problemmgr"], body=EVERYTHING)
    changes.comment(built.changes[0], actor=users["changemgr"], body=EVERYTHING)
    return built
