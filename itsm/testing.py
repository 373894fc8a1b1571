"""Personas and builders every test uses (STYLE §9).

rita (requester), alice (Service Desk agent), bob (Network agent), carol (CAB member),
max (manager), paula (problem manager), chris (change manager), ada (admin).
"""

from django.contrib.auth.models import Group

from accounts.models import Team, User
from itsm.permissions import ADMIN

PASSWORD = "correct-horse-battery"

PERSONAS = {
    "rita": {"first_name": "Rita", "last_name": "Requester", "roles": ()},
    "eve": {"first_name": "Eve", "last_name": "Other", "roles": ()},
    "alice": {"first_name": "Alice", "last_name": "Agent", "roles": ("agent",)},
    "bob": {"first_name": "Bob", "last_name": "Network", "roles": ("agent",)},
    "carol": {"first_name": "Carol", "last_name": "Cab", "roles": ("cab_member",)},
    "chris": {"first_name": "Chris", "last_name": "Change", "roles": ("change_manager",)},
    "paula": {"first_name": "Paula", "last_name": "Problem", "roles": ("problem_manager",)},
    "max": {"first_name": "Max", "last_name": "Manager", "roles": ("manager",)},
    "ada": {"first_name": "Ada", "last_name": "Admin", "roles": (ADMIN,)},
}


def make_user(username: str, *, roles=(), password: str = PASSWORD, **fields) -> User:
    fields.setdefault("email", f"{username}@example.com")
    user = User(username=username, **fields)
    user.set_password(password)
    user.is_superuser = user.is_staff = ADMIN in roles
    user.save()
    groups = [Group.objects.get_or_create(name=r)[0] for r in roles if r != ADMIN]
    user.groups.set(groups)
    return user


def make_persona(name: str) -> User:
    spec = PERSONAS[name]
    existing = User.objects.filter(username=name).first()
    if existing:
        return existing
    return make_user(
        name, roles=spec["roles"], first_name=spec["first_name"], last_name=spec["last_name"]
    )


def make_team(name: str, *, members=(), lead=None) -> Team:
    team, _created = Team.objects.get_or_create(name=name, defaults={"lead": lead})
    if members:
        team.members.add(*members)
    return team


def make_incident(**overrides):
    from incidents.services import open_incident

    requester = overrides.pop("requester", None) or make_persona("rita")
    actor = overrides.pop("actor", None) or requester
    overrides.setdefault("title", "Outlook keeps asking for my password")
    overrides.setdefault("description", "Since this morning, every few minutes.")
    return open_incident(actor=actor, requester=requester, **overrides)
