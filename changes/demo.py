"""Demo changes (``manage.py seed_demo``): standard-change templates, the CAB of three (the
``cab`` login, ``changemgr`` and ``security``), a year-end freeze and a month-end close, changes
in every state — some awaiting the ``cab`` login's vote, one approved but blocked by the freeze,
an emergency change scheduled through it, overlapping changes on dependent CIs — and a year of
closed changes for the success rate. Each is raised and worked through the real verbs with the
clock moved back, so history, votes, conflicts and notifications are what production would
have. Idempotent: nothing is added once changes exist."""

import contextlib
import random
from datetime import datetime, time, timedelta

import time_machine
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import add_members
from cmdb.models import CI
from incidents.models import Incident

from . import services
from .models import Change, ChangeTemplate

SEED = 20261202
PLANS = {
    "implementation_plan": (
        "1. Announce the window in #ops.\n2. Take a snapshot / backup.\n3. Apply the change.\n"
        "4. Run the test plan."
    ),
    "backout_plan": "Restore the snapshot taken at step 2; announce the rollback.",
    "test_plan": "Smoke tests of the services impacted; check monitoring for 30 minutes.",
}
SAFE = {
    "tested": "yes",
    "backout_tested": "yes",
    "outage": "none",
    "users": "none",
    "experience": "yes",
}
TEMPLATES = [
    (
        "Renew a TLS certificate on a load balancer",
        "Replace an expiring certificate with the one issued by the internal PKI.",
        30,
        "Network",
        ["lb-par1-01"],
    ),
    (
        "Add a VLAN to a top-of-rack switch",
        "Create the VLAN, tag it on the uplinks, document it in the IPAM.",
        45,
        "Network",
        ["sw-tor-par1-01"],
    ),
    (
        "Monthly patching of a domain controller",
        "Windows cumulative update on one domain controller at a time.",
        60,
        "Infrastructure",
        ["vm-dc-par1-01"],
    ),
    (
        "Restart the ERP batch scheduler",
        "Controlled restart after the nightly jobs, when the queue is empty.",
        15,
        "Applications",
        ["ERP batch scheduler"],
    ),
]
HISTORY = [  # (title, CI names, outcome) for the year of closed changes
    ("Upgrade PostgreSQL minor version on db-itsm", ["db-itsm"], "successful"),
    ("Extend the SAN LUN of the file shares", ["san-par1-01"], "successful"),
    ("Patch the Exchange mailbox servers", ["Exchange hybrid"], "successful_with_issues"),
    ("Upgrade the CRM API to 5.2", ["CRM API"], "failed"),
    ("Replace the Wi-Fi access points of Bordeaux", ["ap-br-bod-01"], "successful"),
    ("Firmware update of the Paris firewalls", ["fw-par1-01", "fw-par1-02"], "successful"),
    ("Move the intranet database to the new cluster", ["db-intranet"], "backed_out"),
    ("Upgrade Metabase to 0.50", ["Metabase"], "successful"),
    ("Rotate the SSO signing keys", ["Keycloak SSO"], "successful"),
    ("Upgrade the shop storefront framework", ["Shop storefront"], "successful_with_issues"),
    ("Add a node to the GitLab runners", ["Source code & CI (GitLab)"], "successful"),
    ("Migrate the SMTP relay to the new VM", ["SMTP relay"], "successful"),
]


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed_demo(progress=None) -> None:
    if Change.objects.exists():
        return
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=["cab", "changemgr", "security", "agent", "netagent"]
        )
    }
    manager = people.get("changemgr")
    if manager is None:
        return
    cis = {ci.name: ci for ci in CI.objects.all()}
    teams = {team.name: team for team in Team.objects.all()}
    cab = teams.get("CAB")
    if cab is None:
        return
    add_members(
        cab, [p for n, p in people.items() if n in ("cab", "changemgr", "security")], actor=None
    )
    services.save_board(cab, actor=None, policy="all")
    if "Network" in teams:
        services.save_board(teams["Network"], actor=None, policy="majority")
    rng = random.Random(SEED)
    templates = _templates(cis, teams)
    if progress is not None:
        progress.set_postfix_str("changes: history")
    _history(rng, manager, cab, people, cis, templates)
    if progress is not None:
        progress.set_postfix_str("changes: blackouts")
    _blackouts(manager, cis)
    if progress is not None:
        progress.set_postfix_str("changes: current changes")
    _current(manager, cab, people, cis, templates, teams)


def _templates(cis, teams) -> list[ChangeTemplate]:
    made = []
    for name, description, minutes, team, ci_names in TEMPLATES:
        made.append(
            services.save_template(
                None,
                {
                    "name": name,
                    "description": description,
                    "duration_minutes": minutes,
                    "assignment_group": teams.get(team),
                    "cis": [cis[n] for n in ci_names if n in cis],
                    **PLANS,
                },
                actor=None,
            )
        )
    return made


def _cis(cis, names):
    return [cis[n] for n in names if n in cis]


def _raise(manager, when, **fields) -> Change:
    with time_machine.travel(when, tick=False):
        return services.raise_change(actor=manager, **{**PLANS, **fields})


def _through_cab(change, manager, people, when, *, votes=("changemgr", "security", "cab")):
    with time_machine.travel(when, tick=False):
        services.change_state(change, "assess", actor=manager)
        services.change_state(change, "authorize", actor=manager)
    for offset, name in enumerate(votes, 1):
        with time_machine.travel(when + timedelta(hours=offset), tick=False):
            services.vote(change, actor=people[name], decision="approve")


def _history(rng, manager, cab, people, cis, templates) -> None:
    """A year of changes closed with their outcome: one or two a month, by template or CAB."""
    today = timezone.localdate()
    for index in range(26):
        month_back = 11 - index * 11 // 25
        day = (today.replace(day=1) - timedelta(days=30 * month_back)).replace(
            day=rng.randint(2, 26)
        )
        start = _at(day, 21)
        if start > timezone.now() - timedelta(days=3):
            start = timezone.now() - timedelta(days=3, hours=2)
        raised = start - timedelta(days=rng.randint(4, 10))
        if index % 3 == 0:
            template = templates[index % len(templates)]
            change = _raise(
                manager,
                raised,
                template=template,
                planned_start=start,
                planned_end=start + timedelta(minutes=template.duration_minutes),
                risk_answers=SAFE,
            )
            with time_machine.travel(raised + timedelta(hours=1), tick=False):
                services.change_state(change, "scheduled", actor=manager)
            outcome = "successful" if rng.random() < 0.9 else "successful_with_issues"
        else:
            title, names, outcome = HISTORY[(index - index // 3 - 1) % len(HISTORY)]
            change = _raise(
                manager,
                raised,
                title=title,
                cab=cab,
                cis=_cis(cis, names),
                planned_start=start,
                planned_end=start + timedelta(hours=2),
                risk_answers={**SAFE, "outage": rng.choice(["none", "partial"])},
            )
            _through_cab(change, manager, people, raised + timedelta(days=1))
        _finish(change, manager, start, outcome)
        if outcome == "failed":
            _caused_incident(change, start)


def _finish(change, manager, start, outcome, *, close=True) -> None:
    with time_machine.travel(start, tick=False):
        services.change_state(change, "implement", actor=manager)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        services.change_state(
            change,
            "review",
            actor=manager,
            outcome=outcome,
            review_notes={
                "successful": "Went as planned.",
                "successful_with_issues": "Done, 40 minutes late: the snapshot took longer.",
                "failed": "The new version refused the old client certificates.",
                "backed_out": "Replication lag too high: rolled back as planned.",
            }[outcome],
        )
    if close:
        with time_machine.travel(start + timedelta(days=1), tick=False):
            services.change_state(change, "closed", actor=manager)


def _caused_incident(change, start) -> None:
    """The failed change left an incident behind: it names its cause."""
    from incidents import services as incidents

    incident = Incident.objects.filter(title__icontains="CRM").order_by("created_at").first()
    if incident is None:
        return
    incidents.update_incident(incident, {"caused_by_change": change}, actor=None)


def _blackouts(manager, cis) -> None:
    today = timezone.localdate()
    year = today.year - 1 if (today.month, today.day) <= (1, 4) else today.year
    services.save_blackout(
        None,
        {
            "name": "Year-end freeze",
            "description": "No change in production over the holidays, emergencies aside.",
            "start": _at(today.replace(year=year, month=12, day=18), 18),
            "end": _at(today.replace(year=year + 1, month=1, day=4), 8),
        },
        actor=manager,
    )
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=2)
    if month_end < today:
        month_end = (month_end + timedelta(days=33)).replace(day=1) - timedelta(days=2)
    services.save_blackout(
        None,
        {
            "name": "Month-end close",
            "description": "Finance closes the books: nothing touches the ERP.",
            "start": _at(month_end, 0),
            "end": _at(month_end + timedelta(days=2), 12),
            "cis": _cis(cis, ["ERP"]),
        },
        actor=manager,
    )


def _next_weekday(days_ahead: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _at(day, hour)


def _current(manager, cab, people, cis, templates, teams) -> None:
    now = timezone.now()
    security = people.get("security")
    # new, never submitted
    _raise(
        manager,
        now - timedelta(days=2),
        title="Migrate the file shares to the new NAS",
        description="The old NAS is out of support in March.",
        cab=cab,
        cis=_cis(cis, ["File shares (DFS)", "nas-par1-01"]),
        implementation_plan="",
    )
    # new again: rejected by the CAB, with the comment
    rejected = _raise(
        manager,
        now - timedelta(days=6),
        title="Upgrade Exchange to CU15",
        cab=cab,
        cis=_cis(cis, ["Exchange hybrid"]),
        planned_start=_next_weekday(9, 21),
        planned_end=_next_weekday(9, 23),
        risk_answers={**SAFE, "backout_tested": "no", "users": "all"},
    )
    with time_machine.travel(now - timedelta(days=5), tick=False):
        services.change_state(rejected, "assess", actor=manager)
        services.change_state(rejected, "authorize", actor=manager)
        services.vote(rejected, actor=people["changemgr"], decision="approve")
    with time_machine.travel(now - timedelta(days=4), tick=False):
        services.vote(
            rejected,
            actor=security,
            decision="reject",
            comment="The backout plan does not cover the schema extension: rehearse it on "
            "*Exchange test* first, then bring it back.",
        )
    # assess
    assess = _raise(
        manager,
        now - timedelta(days=1),
        title="Replace the core switch sw-core-par1-02",
        cab=cab,
        cis=_cis(cis, ["sw-core-par1-02"]),
        planned_start=_next_weekday(20, 22),
        planned_end=_next_weekday(20, 23) + timedelta(hours=2),
        risk_answers={**SAFE, "outage": "partial", "users": "many"},
    )
    with time_machine.travel(now - timedelta(hours=20), tick=False):
        services.change_state(assess, "assess", actor=manager)
    # authorize, waiting for the cab login's vote (two already approved)
    sso = _raise(
        manager,
        now - timedelta(days=3),
        title="Upgrade Keycloak SSO to 26.0",
        description="Security fixes and the new admin console.",
        cab=cab,
        cis=_cis(cis, ["Keycloak SSO"]),
        planned_start=_next_weekday(5, 21),
        planned_end=_next_weekday(5, 23),
        risk_answers={**SAFE, "outage": "partial", "users": "all"},
    )
    with time_machine.travel(now - timedelta(days=2), tick=False):
        services.change_state(sso, "assess", actor=manager)
        services.change_state(sso, "authorize", actor=manager)
        services.vote(sso, actor=people["changemgr"], decision="approve")
        services.vote(sso, actor=security, decision="approve", comment="Rehearsed in staging.")
    # two overlapping changes on dependent CIs (the ERP runs on its database), both waiting
    window = (_next_weekday(7, 20), _next_weekday(7, 23))
    for title, names, answers in (
        ("Add memory to the ERP database server", ["db-erp-prod"], {**SAFE, "outage": "full"}),
        ("Patch the ERP application servers", ["ERP (SAP S/4HANA)"], {"tested": "yes"}),
    ):
        change = _raise(
            manager,
            now - timedelta(days=1, hours=3),
            title=title,
            cab=cab,
            approval_policy="majority",
            cis=_cis(cis, names),
            planned_start=window[0],
            planned_end=window[1],
            risk_answers=answers,
        )
        with time_machine.travel(now - timedelta(days=1), tick=False):
            services.change_state(change, "assess", actor=manager)
            services.change_state(change, "authorize", actor=manager)
    # an emergency change waiting for the ECAB
    vpn = _raise(
        people.get("netagent") or manager,
        now - timedelta(hours=3),
        type="emergency",
        title="Patch the VPN gateways against the exploited CVE",
        description="The vendor's advisory says it is exploited in the wild.",
        cis=_cis(cis, ["vpn-gw-01", "vpn-gw-02"]),
        planned_start=now + timedelta(hours=4),
        planned_end=now + timedelta(hours=6),
        risk_answers={"tested": "no", "outage": "partial", "users": "many"},
    )
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        services.change_state(vpn, "authorize", actor=people.get("netagent") or manager)
    _awaiting_incident(vpn)
    _scheduled(manager, cab, people, cis, templates, now)


def _freeze_day(hour: int) -> datetime:
    today = timezone.localdate()
    year = today.year - 1 if (today.month, today.day) <= (1, 4) else today.year
    return _at(today.replace(year=year, month=12, day=22), hour)


def _scheduled(manager, cab, people, cis, templates, now) -> None:
    # approved but blocked: its window falls in the year-end freeze
    blocked = _raise(
        manager,
        now - timedelta(days=4),
        title="Re-index the online shop search",
        cab=cab,
        approval_policy="any",
        cis=_cis(cis, ["Shop search service"]),
        planned_start=_freeze_day(22),
        planned_end=_freeze_day(23),
        risk_answers=SAFE,
    )
    with time_machine.travel(now - timedelta(days=3), tick=False):
        services.change_state(blocked, "assess", actor=manager)
        services.change_state(blocked, "authorize", actor=manager)
        # the vote stands; the change waits in authorize for a window out of the freeze
        with contextlib.suppress(services.BlackoutConflict):
            services.vote(blocked, actor=people["security"], decision="approve")
    # an emergency change scheduled through the freeze: the conflict is on record
    urgent = _raise(
        manager,
        now - timedelta(days=1),
        type="emergency",
        title="Renew the expiring wildcard certificate of the shop",
        cis=_cis(cis, ["Shop storefront", "lb-par1-01"]),
        planned_start=_freeze_day(7),
        planned_end=_freeze_day(8),
        risk_answers={**SAFE, "outage": "partial"},
    )
    with time_machine.travel(now - timedelta(hours=20), tick=False):
        services.change_state(urgent, "authorize", actor=manager)
        services.vote(
            urgent,
            actor=manager,
            decision="approve",
            comment="Expires on the 23rd: it cannot wait for January.",
        )
    # scheduled in the coming weeks, for the calendar
    for days, hour, title, names, answers in (
        (
            2,
            22,
            "Firmware update of the Lyon SAN",
            ["san-lyo2-01"],
            {**SAFE, "outage": "partial", "users": "all"},
        ),
        (4, 20, "Upgrade GitLab to 17.6", ["Source code & CI (GitLab)"], {**SAFE, "users": "many"}),
        (8, 21, "Add a second SMTP relay", ["SMTP relay"], SAFE),
        (11, 19, "Resize the BI data warehouse", ["db-dwh"], {**SAFE, "tested": "no"}),
    ):
        change = _raise(
            manager,
            now - timedelta(days=5),
            title=title,
            cab=cab,
            cis=_cis(cis, names),
            planned_start=_next_weekday(days, hour),
            planned_end=_next_weekday(days, hour) + timedelta(hours=2),
            risk_answers=answers,
        )
        _through_cab(change, manager, people, now - timedelta(days=4))
    for offset, template in enumerate(templates[:3]):
        start = _next_weekday(3 + offset * 3, 7)
        change = _raise(
            manager,
            now - timedelta(days=1),
            template=template,
            planned_start=start,
            planned_end=start + timedelta(minutes=template.duration_minutes),
            risk_answers=SAFE,
        )
        with time_machine.travel(now - timedelta(hours=22), tick=False):
            services.change_state(change, "scheduled", actor=manager)
    # being implemented now, waiting for its review, canceled
    started = now - timedelta(hours=1)
    live = _raise(
        manager,
        now - timedelta(days=6),
        title="Move the intranet to the new web cluster",
        cab=cab,
        cis=_cis(cis, ["Intranet (WordPress)"]),
        planned_start=started,
        planned_end=now + timedelta(hours=2),
        risk_answers=SAFE,
    )
    _through_cab(live, manager, people, now - timedelta(days=5))
    with time_machine.travel(started, tick=False):
        services.change_state(live, "implement", actor=manager)
    review = _raise(
        manager,
        now - timedelta(days=8),
        title="Upgrade Zabbix to 7.0",
        cab=cab,
        cis=_cis(cis, ["Monitoring (Zabbix)"]),
        planned_start=now - timedelta(days=1, hours=3),
        planned_end=now - timedelta(days=1, hours=1),
        risk_answers=SAFE,
    )
    _through_cab(review, manager, people, now - timedelta(days=7))
    _finish(
        review, manager, now - timedelta(days=1, hours=3), "successful_with_issues", close=False
    )
    canceled = _raise(
        manager,
        now - timedelta(days=12),
        title="Decommission the fax server",
        cab=cab,
        cis=_cis(cis, ["IP telephony (3CX)"]),
    )
    with time_machine.travel(now - timedelta(days=10), tick=False):
        services.change_state(canceled, "canceled", actor=manager)


def _awaiting_incident(change) -> None:
    """An incident on hold until a change fixes it names that change."""
    from incidents import services as incidents

    incident = (
        Incident.objects.filter(state__in=["new", "in_progress"], title__icontains="VPN")
        .order_by("created_at")
        .first()
    )
    if incident is None:
        return
    incidents.hold(incident, actor=incident.assignee, reason="awaiting_change", change=change)
