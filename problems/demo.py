"""Demo problems, after the demo incidents (``seed_demo`` runs this app next):

- the VPN story: remote workers' tunnels dropped every few minutes; a problem with 30 linked
  incidents, its root cause found, a workaround published in the portal (an end user typing
  "VPN" in the report form sees it) and the fix in progress — fewer reports since the
  workaround went out;
- a cluster nobody covers yet: Outlook keeps asking for passwords, more and more often these
  last two weeks — the first candidate a problem manager sees;
- a problem under analysis (the slow CRM), a known error not published yet (the shared
  mailbox), and a closed one resolved with its incidents (the duplex printer).

Everything goes through the verbs, with the clock moved back for each step, so the history,
the notifications and the SLA timers are what production would have.
"""

import random
from datetime import timedelta

import time_machine
from django.utils import timezone

from accounts.models import Team, User
from cmdb.models import CI
from incidents import services as incident_services
from incidents.models import Incident

from . import services
from .models import Problem
from .workflow import Priority, State

SEED = 20261202
VPN_LINKED = 30
VPN_TITLES = [
    "VPN disconnects every 10 minutes",
    "VPN keeps disconnecting when working from home",
    "FortiClient drops the connection",
    "VPN tunnel drops during Teams calls",
    "Remote access cuts out several times an hour",
]
VPN_ROOT_CAUSE = (
    "The VPN gateways close idle UDP sessions after 10 minutes (dead peer detection), while "
    "most home routers keep NAT entries for 5 minutes only: the tunnel is torn down and "
    "FortiClient reconnects. Confirmed on **vpn-gw-01** and **vpn-gw-02** logs."
)
VPN_WORKAROUND = (
    "1. Open **FortiClient** and go to *Remote access*.\n"
    "2. Choose the **Corporate (TCP 443)** connection instead of *Corporate*.\n"
    "3. Connect again: the tunnel stays up, even on home Wi-Fi.\n\n"
    "If the *Corporate (TCP 443)* connection is missing, restart FortiClient once: it is "
    "pushed to every laptop."
)
OUTLOOK_TITLES = [
    "Outlook keeps asking for my password",
    "Outlook asks for my password again",
    "Outlook keeps prompting for password",
    "Outlook keeps asking for password after reset",
    "Outlook password prompt keeps popping up",
]
OUTLOOK_DESCRIPTIONS = [
    "A credentials prompt every few minutes; typing the password works for a while.",
    "Since this morning Outlook asks for my password again and again.",
    "The password window comes back as soon as I close it.",
]


def seed_demo(progress=None) -> None:
    if Problem.objects.exists():
        return
    manager = User.objects.filter(username="problemmgr").first()
    agent = User.objects.filter(username="agent").first()
    people = list(User.objects.filter(groups__isnull=True, is_superuser=False))
    if manager is None or agent is None or not people:
        return
    rng = random.Random(SEED)
    now = timezone.now()
    teams = {team.name: team for team in Team.objects.all()}
    found = {ci.name.split(" ")[0]: ci for ci in CI.objects.services()}
    gateways = list(CI.objects.filter(name__startswith="vpn-gw-").order_by("name"))
    _vpn(rng, now, manager, agent, people, teams, found.get("VPN"), gateways)
    if progress is not None:
        progress.set_postfix_str("problems: VPN")
    exchange = CI.objects.filter(name="Exchange hybrid").first()
    _outlook_cluster(rng, now, agent, people, teams, found.get("Email"), exchange)
    _others(now, manager, agent, teams, found)


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _report(rng, when, *, agent, people, title, description, team, service, ci=None):
    """An incident logged by the desk at ``when`` (a caller on the phone)."""
    with _at(when):
        return incident_services.open_incident(
            actor=agent,
            requester=rng.choice(people),
            title=title,
            description=description,
            impact=2,
            urgency=2,
            assignment_group=team,
            service=service,
            ci=ci,
        )


def _vpn(rng, now, manager, agent, people, teams, service, gateways) -> None:
    """30 incidents, most of them before the workaround was published three weeks ago."""
    existing = list(
        Incident.objects.filter(title=VPN_TITLES[0], problem__isnull=True).order_by("created_at")
    )[:VPN_LINKED]
    extra = []
    for index in range(VPN_LINKED - len(existing)):
        weeks_ago = rng.choice([9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 1])
        when = now - timedelta(weeks=weeks_ago, hours=rng.randint(0, 6 * 24))
        extra.append(
            _report(
                rng,
                when,
                agent=agent,
                people=people,
                title=VPN_TITLES[1 + index % (len(VPN_TITLES) - 1)],
                description="Working from home, the tunnel drops and FortiClient reconnects.",
                team=teams.get("Network"),
                service=service,
            )
        )
    incidents = sorted(existing + extra, key=lambda incident: incident.created_at)
    opened = min(incidents[0].created_at + timedelta(days=2), now - timedelta(weeks=6))
    with _at(opened):
        problem = services.open_problem(
            actor=manager,
            title="VPN tunnel drops every few minutes for remote workers",
            description=(
                "Remote workers lose the VPN several times an hour, mostly on home Wi-Fi. "
                "One in three incidents of the month is about VPN access."
            ),
            priority=Priority.HIGH,
            assignee=manager,
            assignment_group=teams.get("Network"),
            services=[service] if service else [],
            cis=gateways,
        )
        services.change_state(problem, State.ASSESS, actor=manager)
    with _at(opened + timedelta(days=3)):
        services.change_state(problem, State.ROOT_CAUSE_ANALYSIS, actor=manager)
        services.comment(
            problem,
            actor=agent,
            body="Every caller was on home Wi-Fi; none from the offices.",
        )
    published = now - timedelta(weeks=3)
    with _at(published):
        services.update_problem(
            problem,
            {"root_cause": VPN_ROOT_CAUSE, "workaround": VPN_WORKAROUND, "known_error": True},
            actor=manager,
        )
        services.publish(problem, actor=manager)
        services.change_state(problem, State.FIX_IN_PROGRESS, actor=manager)
        services.comment(
            problem,
            actor=manager,
            body="Change to align the gateways' timers requested for the next window.",
            internal=True,
        )
    for incident in incidents:
        # linked once its agent was done with it (or when the problem opened, if later)
        incident.refresh_from_db(fields=["updated_at"])
        when = max(incident.updated_at + timedelta(minutes=5), opened + timedelta(minutes=5))
        with _at(min(when, now)):
            services.link(problem, incident, actor=agent)


def _outlook_cluster(rng, now, agent, people, teams, service, ci) -> None:
    """More and more "Outlook asks for my password" reports, and no problem yet."""
    for index in range(14):
        days_ago = rng.choice([13, 11, 9, 7, 6, 5, 4, 3, 3, 2, 2, 1, 1, 0])
        when = now - timedelta(days=days_ago, hours=rng.randint(1, 20))
        incident = _report(
            rng,
            when,
            agent=agent,
            people=people,
            title=OUTLOOK_TITLES[index % len(OUTLOOK_TITLES)],
            description=rng.choice(OUTLOOK_DESCRIPTIONS),
            team=teams.get("Service Desk"),
            service=service,
            ci=ci,
        )
        if index % 3 == 0:
            with _at(min(when + timedelta(minutes=20), now)):
                incident_services.take(incident, actor=agent)


def _others(now, manager, agent, teams, found) -> None:
    with _at(now - timedelta(days=12)):
        crm = services.open_problem(
            actor=manager,
            title="CRM very slow when opening accounts",
            description="Opening an account takes 30 s or more at peak hours.",
            priority=Priority.MODERATE,
            assignee=manager,
            assignment_group=teams.get("Applications"),
            services=[found["CRM"]] if "CRM" in found else [],
            incidents=list(
                Incident.objects.filter(title__startswith="CRM very slow", problem__isnull=True)[:8]
            ),
        )
        services.change_state(crm, State.ASSESS, actor=manager)
    with _at(now - timedelta(days=9)):
        services.change_state(crm, State.ROOT_CAUSE_ANALYSIS, actor=manager)
        services.comment(crm, actor=agent, body="Slow queries on the accounts view since v7.2.")
    with _at(now - timedelta(days=6)):
        mailbox = services.open_problem(
            actor=manager,
            title="Shared mailboxes disappear from Outlook",
            description="Auto-mapped shared mailboxes vanish after the monthly update.",
            assignee=manager,
            services=[found["Email"]] if "Email" in found else [],
            workaround="Add the mailbox again: *File › Account settings › Change › More settings*.",
            known_error=True,
            incidents=list(
                Incident.objects.filter(title="Shared mailbox missing", problem__isnull=True)[:5]
            ),
        )
        services.change_state(mailbox, State.ASSESS, actor=manager)
    with _at(now - timedelta(days=20)):
        printer = services.open_problem(
            actor=manager,
            title="HP-2F-01 jams on every duplex job",
            description="The 2nd floor printer jams whenever it prints on both sides.",
            priority=Priority.LOW,
            assignee=manager,
            incidents=list(
                Incident.objects.filter(
                    title="Printer on 2nd floor jams", problem__isnull=True
                ).order_by("-created_at")[:6]
            ),
        )
        services.change_state(printer, State.ASSESS, actor=manager)
        services.change_state(printer, State.ROOT_CAUSE_ANALYSIS, actor=manager)
    services.resolve(
        printer,
        actor=manager,
        root_cause="A worn duplex roller; replaced under the maintenance contract.",
        incidents=("fixed", "The printer's duplex roller was replaced: double-sided works again."),
    )
    services.change_state(printer, State.CLOSED, actor=manager)
