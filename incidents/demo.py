"""Demo incidents: a few hundred over the last ten weeks, across teams, states and priorities,
each created and worked through the real services (so history, SLA timers and notifications
are what production would have), with the clock moved back for each step."""

import random
from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import create_user
from cmdb.models import CI
from itsm.permissions import AGENT, users_with_role

from . import services
from .models import Incident

COUNT = 320
SEED = 20261123
# (title, description, team, service name hint, impact, urgency)
CATALOGUE = [
    (
        "Outlook keeps asking for my password",
        "Since this morning, every few minutes, Outlook pops up a credentials prompt.",
        "Service Desk",
        "Email",
        3,
        2,
    ),
    (
        "Cannot send emails with attachments",
        "Sending anything over 2 MB fails with *552 message size exceeds*.",
        "Applications",
        "Email",
        3,
        3,
    ),
    (
        "Shared mailbox missing",
        "The **support@** mailbox disappeared from my Outlook.",
        "Service Desk",
        "Email",
        3,
        3,
    ),
    (
        "VPN disconnects every 10 minutes",
        "Working from home, the VPN client drops and reconnects constantly.",
        "Network",
        "VPN",
        2,
        2,
    ),
    (
        "VPN down for the whole Lyon office",
        "Nobody in Lyon can reach internal sites.",
        "Network",
        "VPN",
        1,
        1,
    ),
    (
        "Wi-Fi very slow on 3rd floor",
        "Speed tests show under 1 Mbit/s near meeting room B.",
        "Network",
        "",
        2,
        3,
    ),
    (
        "CRM very slow when opening accounts",
        "Opening any account takes 30 s or more.",
        "Applications",
        "CRM",
        2,
        2,
    ),
    ("CRM export to Excel fails", "Export button shows *Error 500*.", "Applications", "CRM", 3, 3),
    (
        "ERP invoices stuck in approval",
        "Invoices submitted yesterday are still pending.",
        "Applications",
        "ERP",
        2,
        1,
    ),
    (
        "ERP unavailable",
        "Login page answers *503 Service Unavailable* for everyone.",
        "Infrastructure",
        "ERP",
        1,
        1,
    ),
    ("Printer on 2nd floor jams", "HP-2F-01 jams on every duplex job.", "Service Desk", "", 3, 3),
    ("New laptop does not boot", "Black screen after the logo.", "Service Desk", "", 3, 2),
    (
        "Disk almost full on file server",
        "Monitoring reports 95 % used on FS-PAR-02.",
        "Infrastructure",
        "",
        2,
        2,
    ),
    (
        "Teams calls drop audio",
        "Audio cuts out for several seconds during calls.",
        "Network",
        "",
        3,
        2,
    ),
    (
        "Password reset link expired",
        "The reset link says it expired immediately.",
        "Service Desk",
        "",
        3,
        2,
    ),
    (
        "Access to finance share denied",
        "I need read access to \\\\fs\\finance\\2026.",
        "Service Desk",
        "",
        3,
        3,
    ),
    (
        "Database backup job failed",
        "Nightly backup of CRM-DB failed with ORA-19502.",
        "Infrastructure",
        "CRM",
        2,
        2,
    ),
    (
        "Website contact form broken",
        "Submitting the form shows a blank page.",
        "Applications",
        "",
        2,
        2,
    ),
]
RESOLUTIONS = [
    ("fixed", "Restarted the service and confirmed with the user."),
    ("fixed", "Replaced the faulty component."),
    ("workaround", "Provided a workaround while the root cause is investigated."),
    ("user_error", "Walked the user through the correct procedure."),
    ("not_reproducible", "Could not reproduce after several attempts; user confirmed OK."),
]
REPLIES = [
    "Thanks, I am looking into it now.",
    "Could you send a screenshot of the error?",
    "We have identified the cause and are applying a fix.",
]
NOTES = [
    "Checked the logs: same error since 08:12 UTC.",
    "Vendor ticket opened, reference V-4471.",
    "Probably linked to last night's change; checking with the change owner.",
]


EMPLOYEES = [
    ("lucas.petit", "Lucas", "Petit"),
    ("ines.garcia", "Inès", "Garcia"),
    ("hugo.roux", "Hugo", "Roux"),
    ("lea.fournier", "Léa", "Fournier"),
    ("nathan.morel", "Nathan", "Morel"),
    ("manon.girard", "Manon", "Girard"),
    ("tom.andre", "Tom", "André"),
    ("sarah.mercier", "Sarah", "Mercier"),
    ("jules.blanc", "Jules", "Blanc"),
    ("zoe.guerin", "Zoé", "Guérin"),
    ("adam.faure", "Adam", "Faure"),
    ("julia.chevalier", "Julia", "Chevalier"),
]


def _employees() -> list[User]:
    """Colleagues who report incidents (no login: they are demo data, not demo accounts)."""
    people = []
    for username, first, last in EMPLOYEES:
        user = User.objects.filter(username=username).first() or create_user(
            actor=None,
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@demo.example.com",
        )
        people.append(user)
    return people


def seed_demo(progress=None) -> None:
    if Incident.objects.exists():
        return
    rng = random.Random(SEED)
    _employees()
    requesters = list(User.objects.filter(groups__isnull=True, is_superuser=False))
    agents = list(users_with_role(AGENT).filter(is_superuser=False))
    teams = {team.name: team for team in Team.objects.all()}
    services_by_name = {ci.name.split(" ")[0]: ci for ci in CI.objects.services()}
    if not requesters or not agents:
        return
    now = timezone.now()
    for index in range(COUNT):
        title, description, team_name, service_hint, impact, urgency = rng.choice(CATALOGUE)
        age = timedelta(minutes=rng.randint(10, 70 * 24 * 60))
        created = now - age
        team = teams.get(team_name)
        workers = [a for a in agents if team and a.teams.filter(pk=team.pk).exists()] or agents
        agent = rng.choice(workers)
        requester = rng.choice(requesters)
        with time_machine.travel(created, tick=False):
            # logged by the desk for the caller (impact, team and the major flag are an
            # agent's to set), as a phone call would be
            incident = services.open_incident(
                actor=agent,
                requester=requester,
                title=title,
                description=description,
                impact=impact,
                urgency=urgency,
                assignment_group=team,
                service=services_by_name.get(service_hint),
                major=impact == 1 and urgency == 1 and rng.random() < 0.5,
            )
        _work(incident, rng, agent, requester, created, now)
        if progress is not None and index % 40 == 0:
            progress.set_postfix_str(f"incidents {index}/{COUNT}")
    _for_the_end_user_login(teams, now)


def _for_the_end_user_login(teams, now) -> None:
    """The demo's end user finds work waiting for them on the portal's home, whatever the
    random draw gave them: a fix to confirm and rate, and a question to answer."""
    emma = User.objects.filter(username="enduser").first()
    alex = User.objects.filter(username="agent").first()
    if emma is None or alex is None:
        return
    desk = teams.get("Service Desk")
    opened = now - timedelta(days=1, hours=3)
    with time_machine.travel(opened, tick=False):
        solved = services.open_incident(
            actor=emma,
            requester=emma,
            title="Docking station no longer detects my second screen",
            description="Since the update on Monday only the laptop screen lights up.",
            urgency=2,
        )
    with time_machine.travel(opened + timedelta(minutes=20), tick=False):
        services.assign(solved, actor=alex, group=desk, assignee=alex)
        services.take(solved, actor=alex)
    with time_machine.travel(opened + timedelta(hours=2), tick=False):
        services.resolve(
            solved,
            actor=alex,
            code="fixed",
            notes="Updated the docking station firmware; both screens work again.",
        )
    opened = now - timedelta(hours=5)
    with time_machine.travel(opened, tick=False):
        question = services.open_incident(
            actor=emma,
            requester=emma,
            title="Expense report spreadsheet will not open",
            description="Excel says the file is locked for editing by another user.",
            urgency=3,
        )
    with time_machine.travel(opened + timedelta(minutes=35), tick=False):
        services.assign(question, actor=alex, group=desk, assignee=alex)
        services.take(question, actor=alex)
        services.comment(
            question,
            actor=alex,
            body="Hi Emma, which folder is the file in, and who else uses it?",
        )
        services.hold(question, actor=alex, reason="awaiting_caller")


def _work(incident, rng, agent, requester, created, now) -> None:
    """Walk the incident through a plausible life, never past ``now``."""
    clock = created

    def step(minutes_low, minutes_high):
        nonlocal clock
        clock = clock + timedelta(minutes=rng.randint(minutes_low, minutes_high))
        return clock < now

    fate = rng.random()
    if fate < 0.12 and incident.priority > 2:  # still new, nobody picked it up
        return
    # Urgent work is picked up within minutes, the rest within hours.
    if not (step(1, 14) if incident.priority <= 2 else step(3, 240)):
        return
    with time_machine.travel(clock, tick=False):
        services.take(incident, actor=agent)
        services.comment(incident, actor=agent, body=rng.choice(REPLIES))
    if rng.random() < 0.4 and step(5, 120):
        with time_machine.travel(clock, tick=False):
            services.comment(incident, actor=agent, body=rng.choice(NOTES), internal=True)
    if fate < 0.35:  # in progress
        return
    if fate < 0.45:  # waiting for someone
        if step(10, 600):
            with time_machine.travel(clock, tick=False):
                services.hold(
                    incident,
                    actor=agent,
                    reason=rng.choice(["awaiting_caller", "awaiting_vendor"]),
                )
        return
    if not step(30, 4 * 24 * 60):
        return
    code, notes = rng.choice(RESOLUTIONS)
    with time_machine.travel(clock, tick=False):
        services.resolve(incident, actor=agent, code=code, notes=notes)
    if fate < 0.55 or not step(60, 2 * 24 * 60):
        return
    if fate < 0.6:  # the requester was not convinced
        with time_machine.travel(clock, tick=False):
            services.reopen(incident, actor=requester, reason="Still happening, sorry.")
        return
    with time_machine.travel(clock, tick=False):
        services.confirm(incident, actor=requester)
        if rng.random() < 0.7:
            services.rate(
                incident,
                actor=requester,
                score=rng.choice([5, 5, 5, 4, 4, 3, 2]),
                comment_text=rng.choice(["", "Quick and friendly, thanks!", "Took a while."]),
            )
