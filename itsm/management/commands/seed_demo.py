"""``manage.py seed_demo``: demo logins (one per role), teams and realistic records.

Idempotent: running it again changes nothing that exists. Nobody is mailed about demo records
(their notifications exist in-app only). Each app adds its records through a
``seed_demo(progress)`` function in its ``demo.py``, called here in dependency order.
"""

import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from accounts.models import Team, User
from accounts.services import add_members, create_user, save_team
from itsm.notify import without_mail

DEMO_PASSWORD = "demo"
# username, first, last, roles, teams
DEMO_USERS = [
    ("enduser", "Emma", "Laurent", (), ()),
    ("agent", "Alex", "Martin", ("agent",), ("Service Desk",)),
    ("netagent", "Noah", "Bernard", ("agent",), ("Network",)),
    ("cab", "Camille", "Dubois", ("cab_member",), ("CAB",)),
    ("security", "Inès", "Garnier", ("cab_member",), ("CAB",)),
    ("changemgr", "Chloé", "Moreau", ("change_manager", "agent"), ("CAB", "Infrastructure")),
    ("problemmgr", "Paul", "Lefèvre", ("problem_manager", "agent"), ("Applications",)),
    ("manager", "Marie", "Girard", ("manager",), ()),
    ("admin", "Adrien", "Roux", ("admin",), ()),
]
TEAMS = {
    "Service Desk": "First line: every new incident and request lands here.",
    "Network": "LAN, WAN, VPN, Wi-Fi and firewalls.",
    "Infrastructure": "Servers, storage, virtualisation and cloud.",
    "Applications": "Business applications: ERP, CRM, email.",
    "CAB": "Change Advisory Board.",
}
TEAM_LEADS = {"Service Desk": "agent", "Network": "netagent", "CAB": "changemgr"}
# Apps that contribute demo records, in dependency order.
DEMO_APPS = ["cmdb", "sla", "incidents", "problems", "changes", "catalog"]


class Command(BaseCommand):
    help = "Load demo users (one per role), teams and records. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print logins.")

    def handle(self, *args, **options):
        modules = [
            importlib.import_module(f"{label}.demo")
            for label in DEMO_APPS
            if apps.is_installed(label) and importlib.util.find_spec(f"{label}.demo")
        ]
        with (
            without_mail(),
            tqdm(total=2 + len(modules), desc="Demo data", unit="step") as progress,
        ):
            with transaction.atomic():
                users = self.seed_people()
            progress.update(1)
            with transaction.atomic():
                self.seed_teams(users)
            progress.update(1)
            for module in modules:
                progress.set_postfix_str(module.__name__.split(".")[0])
                with transaction.atomic():
                    module.seed_demo(progress=progress)
                progress.update(1)
            # Second pass once every app has its records (e.g. the SLA engine marks the
            # escalations of back-dated history as done, so nobody is notified of the past).
            for module in modules:
                if hasattr(module, "finish_demo"):
                    with transaction.atomic():
                        module.finish_demo(progress=progress)
        if not options["quiet_logins"]:
            self.print_logins()

    def seed_people(self) -> dict[str, User]:
        users = {}
        for username, first, last, roles, _teams in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = create_user(
                    actor=None,
                    username=username,
                    roles=roles,
                    password=DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@demo.example.com",
                )
            users[username] = user
        return users

    def seed_teams(self, users: dict[str, User]) -> None:
        for name, description in TEAMS.items():
            lead = users.get(TEAM_LEADS.get(name, ""))
            team = Team.objects.filter(name=name).first() or save_team(
                None, {"name": name, "description": description, "lead": lead}, actor=None
            )
            members = [users[u] for u, *_rest, teams in DEMO_USERS if name in teams]
            add_members(team, members, actor=None)

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nDemo logins (password: {DEMO_PASSWORD})"))
        for username, first, last, roles, _teams in DEMO_USERS:
            label = ", ".join(roles) or "end user"
            self.stdout.write(f"  {username:<11} {first + ' ' + last:<18} {label}")
