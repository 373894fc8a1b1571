"""Demo catalog (``manage.py seed_demo``): four categories, six items with their forms, approvals
and tasks, in English and French; request SLA policies; and requests in every state, each
ordered, approved and worked through the real verbs (so history, tasks, SLA timers and
notifications are what production would have), with the clock moved back for each step.

Emma Laurent (the demo ``enduser``) and the colleagues of the incident demo report to Marie
Girard (the demo ``manager``), who approves their orders. Idempotent.
"""

import random
from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import add_members, save_team, update_user
from itsm.permissions import AGENT, users_with_role

from . import services
from .models import CatalogItem, Category, Request

SEED = 20261202
HOUR = 3600
BUSINESS_DAY = 9 * HOUR
# (name, slug, icon, French name, summary, French summary)
CATEGORIES = [
    ("Hardware", "hardware", "laptop", "Matériel", "Computers, screens, headsets.",
     "Ordinateurs, écrans, casques."),
    ("Software", "software", "window-stack", "Logiciels", "Licences and installations.",
     "Licences et installations."),
    ("Access", "access", "key", "Accès", "VPN, shared folders and applications.",
     "VPN, dossiers partagés et applications."),
    ("People", "people", "person-plus", "Personnes", "Arrivals and departures.",
     "Arrivées et départs."),
]  # fmt: skip


def field(name, label, label_fr, kind, *, required=False, help_text="", help_fr="", **extra):
    translations = {"fr": {"label": label_fr, **({"help_text": help_fr} if help_fr else {})}}
    return {
        "name": name,
        "label": label,
        "type": kind,
        "required": required,
        "help_text": help_text,
        "translations": translations,
        **extra,
    }


def choices(*options):
    return [{"value": value, "label": en, "translations": {"fr": fr}} for value, en, fr in options]


ITEMS = [
    {
        "category": "hardware",
        "name": "Laptop",
        "icon": "laptop",
        "summary": "A new or replacement laptop, ready to use.",
        "description": "Standard models are in stock; the performance model takes about a week.",
        "fr": {
            "name": "Ordinateur portable",
            "summary": "Un portable neuf ou de remplacement, prêt à l’emploi.",
            "description": "Les modèles standard sont en stock ; le modèle performance demande "
            "environ une semaine.",
        },
        "approval": "manager",
        "team": "Service Desk",
        "policy": "Hardware requests",
        "form": [
            field(
                "model",
                "Model",
                "Modèle",
                "choice",
                required=True,
                choices=choices(
                    ("standard", "Standard 14-inch", "Standard 14 pouces"),
                    ("performance", "Performance 16-inch", "Performance 16 pouces"),
                    ("ultralight", "Ultralight 13-inch", "Ultra-léger 13 pouces"),
                ),
            ),
            field(
                "keyboard",
                "Keyboard layout",
                "Disposition du clavier",
                "choice",
                required=True,
                choices=choices(
                    ("azerty", "French (AZERTY)", "Français (AZERTY)"),
                    ("qwerty", "English (QWERTY)", "Anglais (QWERTY)"),
                ),
            ),
            field("needed_by", "Needed by", "Pour le", "date", required=True),
            field(
                "dock",
                "I also need a docking station",
                "Il me faut aussi une station d’accueil",
                "boolean",
            ),  # fmt: skip
            field(
                "reason",
                "Why do you need it?",
                "Pourquoi en avez-vous besoin ?",
                "textarea",
                required=True,
                help_text="Replacement of a broken laptop, new role…",
                help_fr="Remplacement d’un portable en panne, nouveau poste…",
            ),
        ],
        "tasks": [
            (
                "Prepare and image the laptop",
                "Install the standard image and encrypt the disk.",
                None,
            ),
            ("Hand over the laptop and collect the old one", "", None),
        ],  # fmt: skip
    },
    {
        "category": "hardware",
        "name": "Headset",
        "icon": "headset",
        "summary": "A headset for calls and meetings.",
        "description": "",
        "fr": {"name": "Casque", "summary": "Un casque pour les appels et les réunions."},
        "approval": "none",
        "team": "Service Desk",
        "policy": "",
        "form": [
            field(
                "kind",
                "Type",
                "Type",
                "choice",
                required=True,
                choices=choices(
                    ("wired", "Wired (USB)", "Filaire (USB)"),
                    ("wireless", "Wireless", "Sans fil"),
                ),
            ),
        ],
        "tasks": [],
    },
    {
        "category": "software",
        "name": "Software licence",
        "icon": "window-stack",
        "summary": "A licence for software that is not installed by default.",
        "description": "Licences are paid by your department: the licence team approves them.",
        "fr": {
            "name": "Licence logicielle",
            "summary": "Une licence pour un logiciel qui n’est pas installé d’office.",
            "description": "Les licences sont payées par votre service : l’équipe des licences "
            "les approuve.",
        },
        "approval": "team",
        "approval_team": "Licence approvers",
        "team": "Applications",
        "policy": "",
        "form": [
            field(
                "software",
                "Software",
                "Logiciel",
                "choice",
                required=True,
                choices=choices(
                    ("acrobat", "Adobe Acrobat Pro", "Adobe Acrobat Pro"),
                    ("visio", "Microsoft Visio", "Microsoft Visio"),
                    ("project", "Microsoft Project", "Microsoft Project"),
                    ("tableau", "Tableau Desktop", "Tableau Desktop"),
                ),
            ),
            field(
                "seats",
                "Number of licences",
                "Nombre de licences",
                "number",
                required=True,
                min=1,
                max=10,
            ),  # fmt: skip
            field(
                "reason", "What is it for?", "À quoi va-t-elle servir ?", "textarea", required=True
            ),  # fmt: skip
        ],
        "tasks": [
            ("Buy the licence", "", None),
            ("Install the software on the requester's computer", "", "Service Desk"),
        ],
    },
    {
        "category": "access",
        "name": "VPN access",
        "icon": "shield-lock",
        "summary": "Work from outside the office.",
        "description": "",
        "fr": {"name": "Accès VPN", "summary": "Travailler hors du bureau."},
        "approval": "manager",
        "team": "Network",
        "policy": "Access requests",
        "form": [
            field(
                "device",
                "Device",
                "Appareil",
                "choice",
                required=True,
                choices=choices(
                    ("company", "Company laptop", "Portable de l’entreprise"),
                    ("personal", "Personal computer", "Ordinateur personnel"),
                ),
            ),
            field(
                "until",
                "Needed until",
                "Jusqu’au",
                "date",
                help_text="Empty: as long as you work here.",
                help_fr="Vide : tant que vous travaillez ici.",
            ),  # fmt: skip
            field("reason", "Reason", "Motif", "text", required=True),
        ],
        "tasks": [],
    },
    {
        "category": "access",
        "name": "Access to a shared folder",
        "icon": "folder-symlink",
        "summary": "Read or change the files of a shared folder.",
        "description": "",
        "fr": {
            "name": "Accès à un dossier partagé",
            "summary": "Lire ou modifier les fichiers d’un dossier partagé.",
        },
        "approval": "none",
        "team": "Service Desk",
        "policy": "Access requests",
        "form": [
            field(
                "path",
                "Folder",
                "Dossier",
                "text",
                required=True,
                help_text="For example \\\\fs\\finance\\2026",
                help_fr="Par exemple \\\\fs\\finance\\2026",
            ),  # fmt: skip
            field(
                "level",
                "Access",
                "Accès",
                "choice",
                required=True,
                choices=choices(
                    ("read", "Read only", "Lecture seule"),
                    ("write", "Read and write", "Lecture et écriture"),
                ),
            ),
        ],
        "tasks": [],
    },
    {
        "category": "people",
        "name": "New starter onboarding",
        "icon": "person-plus",
        "summary": "Everything a new colleague needs on their first day.",
        "description": "Order it at least a week before the start date: accounts, laptop, "
        "access and applications are prepared by each team.",
        "fr": {
            "name": "Arrivée d’un nouveau collaborateur",
            "summary": "Tout ce dont un nouveau collègue a besoin dès son premier jour.",
            "description": "À commander au moins une semaine avant l’arrivée : comptes, "
            "portable, accès et applications sont préparés par chaque équipe.",
        },
        "approval": "manager",
        "team": "Service Desk",
        "policy": "Hardware requests",
        "form": [
            field("full_name", "Full name", "Nom complet", "text", required=True),
            field("start_date", "Start date", "Date d’arrivée", "date", required=True),
            field("job_title", "Job title", "Poste", "text"),
            field(
                "department",
                "Department",
                "Service",
                "choice",
                required=True,
                choices=choices(
                    ("finance", "Finance", "Finance"),
                    ("sales", "Sales", "Ventes"),
                    ("it", "IT", "Informatique"),
                    ("hr", "Human resources", "Ressources humaines"),
                ),
            ),
            field("laptop", "Needs a laptop", "A besoin d’un portable", "boolean"),
        ],
        "tasks": [
            ("Create the accounts (directory, email)", "", "Service Desk"),
            ("Prepare the laptop and phone", "", "Service Desk"),
            ("Grant network and VPN access", "", "Network"),
            (
                "Set up the business applications",
                "ERP and CRM profiles of the department.",
                "Applications",
            ),
        ],  # fmt: skip
    },
]
REQUEST_POLICIES = [
    # name, order, response, resolution, pause while awaiting approval
    ("Access requests", 110, 4 * HOUR, 2 * BUSINESS_DAY),
    ("Hardware requests", 120, BUSINESS_DAY, 5 * BUSINESS_DAY),
    ("Standard requests", 190, BUSINESS_DAY, 3 * BUSINESS_DAY),
]
ANSWERS = {
    "Laptop": {"model": "standard", "keyboard": "azerty", "needed_by": None, "dock": True,
               "reason": "My laptop's battery lasts twenty minutes."},
    "Headset": {"kind": "wireless"},
    "Software licence": {"software": "visio", "seats": 1, "reason": "Network diagrams."},
    "VPN access": {"device": "company", "reason": "Working from home on Fridays."},
    "Access to a shared folder": {"path": "\\\\fs\\finance\\2026", "level": "read"},
    "New starter onboarding": {"full_name": "Jules Moreau", "start_date": None,
                               "department": "finance", "laptop": True},
}  # fmt: skip
REJECTIONS = [
    "The free PDF reader does what you need; come back if it does not.",
    "Not this quarter: the budget is spent.",
]


def seed_demo(progress=None) -> None:
    if Category.objects.exists():
        return
    people = _people()
    if people is None:
        return
    teams = {team.name: team for team in Team.objects.all()}
    approvers = teams.get("Licence approvers") or save_team(
        None,
        {"name": "Licence approvers", "description": "Approve paid software licences."},
        actor=None,
    )
    add_members(approvers, [people["manager"], *_agents_of(teams.get("Applications"))], actor=None)
    teams["Licence approvers"] = approvers
    policies = _policies()
    items = _catalog(teams, policies)
    if progress is not None:
        progress.set_postfix_str("catalog: requests")
    _requests(items, people)


def _people() -> dict | None:
    manager = User.objects.filter(username="manager").first()
    enduser = User.objects.filter(username="enduser").first()
    if manager is None or enduser is None:
        return None
    colleagues = list(
        User.objects.filter(groups__isnull=True, is_superuser=False, is_active=True)
        .exclude(pk=enduser.pk)
        .order_by("username")
    )
    for person in [enduser, *colleagues]:
        if person.manager_id is None:
            update_user(person, {"manager": manager}, actor=None)
    return {"manager": manager, "enduser": enduser, "colleagues": colleagues}


def _agents_of(team) -> list:
    if team is None:
        return []
    return list(team.members.filter(is_active=True))


def _policies() -> dict:
    """Request SLA policies on the Paris office calendar (the SLA demo's, else 24×7)."""
    from django.apps import apps

    policy_model = apps.get_model("sla", "Policy")
    calendar_model = apps.get_model("sla", "Calendar")
    existing = {p.name: p for p in policy_model.objects.filter(applies_to="request")}
    calendar = (
        calendar_model.objects.filter(name="Paris office hours").first()
        or calendar_model.objects.filter(is_default=True).first()
    )
    if calendar is None:
        return existing
    from sla.config import save_policy  # the SLA engine's own verb

    for name, order, response, resolution in REQUEST_POLICIES:
        if name not in existing:
            existing[name] = save_policy(
                None,
                {
                    "name": name,
                    "applies_to": "request",
                    "calendar": calendar,
                    "order": order,
                    "response_seconds": response,
                    "resolution_seconds": resolution,
                    "pause_on": ["awaiting_approval"],
                },
                actor=None,
            )
    return existing


def _catalog(teams: dict, policies: dict) -> dict[str, CatalogItem]:
    categories = {}
    for order, (name, slug, icon, name_fr, summary, summary_fr) in enumerate(CATEGORIES, 1):
        categories[slug] = services.save_category(
            None,
            {
                "name": name,
                "slug": slug,
                "icon": icon,
                "order": order * 10,
                "summary": summary,
                "translations": {"fr": {"name": name_fr, "summary": summary_fr}},
            },
            actor=None,
        )
    items = {}
    for order, spec in enumerate(ITEMS, 1):
        items[spec["name"]] = services.save_item(
            None,
            {
                "category": categories[spec["category"]],
                "name": spec["name"],
                "icon": spec["icon"],
                "order": order * 10,
                "summary": spec["summary"],
                "description": spec["description"],
                "translations": {"fr": spec["fr"]},
                "form": spec["form"],
                "approval": spec["approval"],
                "approval_team": teams.get(spec.get("approval_team", "")),
                "fulfillment_team": teams[spec["team"]],
                "tasks": [
                    {"title": title, "description": text, "team": teams[team].pk if team else None}
                    for title, text, team in spec["tasks"]
                ],
                "sla_policy": policies.get(spec["policy"]),
            },
            actor=None,
        )
    return items


# --- Requests ------------------------------------------------------------------------------------


def _answers(name: str, when) -> dict:
    answers = dict(ANSWERS[name])
    for key in ("needed_by", "start_date"):
        if key in answers:
            answers[key] = (when + timedelta(days=14)).date().isoformat()
    return answers


class _Story:
    """One request told step by step, each at its own instant, never past now."""

    def __init__(self, item, person, *, days_ago: float, rng):
        self.item, self.person, self.rng = item, person, rng
        self.now = timezone.now()
        self.clock = self.now - timedelta(days=days_ago)
        self.request = None

    def at(self, hours: float):
        self.clock = min(self.clock + timedelta(hours=hours), self.now - timedelta(minutes=1))
        return time_machine.travel(self.clock, tick=False)

    def order(self, *, by=None):
        with time_machine.travel(self.clock, tick=False):
            self.request = services.order(
                actor=by or self.person,
                item=self.item,
                answers=_answers(self.item.name, self.clock),
                requested_for=self.person,
            )
        return self

    def decide(self, approver, decision="approve", comment=""):
        with self.at(self.rng.uniform(1, 20)):
            services.decide(self.request, actor=approver, decision=decision, comment=comment)
        return self

    def work(self, agent, *, done: int | None = None):
        """``agent`` takes the tasks; the first ``done`` of them (all when None) are done."""
        tasks = list(self.request.tasks.order_by("position"))
        done = len(tasks) if done is None else done
        for index, task in enumerate(tasks):
            with self.at(self.rng.uniform(0.5, 6)):
                services.take_task(task, actor=agent)
            if index < done:
                with self.at(self.rng.uniform(1, 24)):
                    services.complete_task(task, actor=agent)
        return self

    def reply(self, author, body):
        with self.at(self.rng.uniform(0.2, 3)):
            services.comment(self.request, actor=author, body=body)
        return self

    def cancel(self, by, reason=""):
        with self.at(self.rng.uniform(1, 30)):
            services.cancel(self.request, actor=by, reason=reason)
        return self


def _requests(items: dict, people: dict) -> None:
    rng = random.Random(SEED)
    manager, emma = people["manager"], people["enduser"]
    desk_agents = list(
        users_with_role(AGENT).filter(teams__name="Service Desk", is_superuser=False)
    )
    net_agents = list(users_with_role(AGENT).filter(teams__name="Network", is_superuser=False))
    app_agents = list(users_with_role(AGENT).filter(teams__name="Applications", is_superuser=False))
    agent = desk_agents[0] if desk_agents else None
    if agent is None:
        return
    network = net_agents[0] if net_agents else agent
    applications = app_agents[0] if app_agents else agent
    licence_approver = next(
        (p for p in items["Software licence"].approval_team.members.all() if p.pk != emma.pk),
        manager,
    )

    def story(name, person, days_ago):
        return _Story(items[name], person, days_ago=days_ago, rng=rng)

    # Emma's requests, one in each state people see.
    story("Laptop", emma, 1.5).order()  # awaiting Marie's approval
    story("Headset", emma, 0.2).order()  # approved, its task not picked up yet
    story("Access to a shared folder", emma, 3).order().work(agent, done=0)  # in fulfilment
    story("VPN access", emma, 21).order().decide(manager, comment="Of course.").work(network)
    story("Software licence", emma, 9).order().decide(
        licence_approver, "reject", REJECTIONS[0]
    )  # rejected
    story("Headset", emma, 30).order().cancel(emma, "Found one in the meeting room.")
    hiring = people["colleagues"][0] if people["colleagues"] else emma
    onboarding = story("New starter onboarding", hiring, 4).order()
    onboarding.decide(manager, comment="Welcome Jules!").work(agent, done=1)  # 1 of 4 done

    # Colleagues: a few weeks of orders, most of them done.
    colleagues = people["colleagues"] or [emma]
    for index in range(16):
        name = rng.choice(list(items))
        person = rng.choice(colleagues)
        item = items[name]
        tale = story(name, person, rng.uniform(1, 45)).order()
        worker = {"Network": network, "Applications": applications}.get(
            item.fulfillment_team.name, agent
        )
        fate = rng.random()
        if item.approval != "none":
            approver = licence_approver if item.approval == "team" else manager
            if fate < 0.12:
                continue  # still waiting for approval
            if fate < 0.22:
                tale.decide(approver, "reject", rng.choice(REJECTIONS))
                continue
            tale.decide(approver)
        if fate < 0.3:
            continue  # approved, not picked up
        if fate < 0.45:
            tale.work(worker, done=0)
            continue
        if index % 5 == 0:
            tale.reply(worker, "It is ready: come and collect it at the service desk.")
        tale.work(worker)


def requests_by_state() -> dict[str, int]:
    """How many demo requests rest in each state (for checks and the README)."""
    from django.db.models import Count

    return dict(Request.objects.values_list("state").annotate(n=Count("pk")).order_by("state"))
